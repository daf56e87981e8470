// Drives a live pRuntime with @phala/sdk's own code (TestOracleSDKQuery):
// createPruntimeClient(url).getInfo() from the public entry, then queries
// built and sent by the SDK's pinkQuery path (InkQueryMessage /
// InkQueryInstantiate, signCertificate, createEncryptedData), answers
// decoded with the SDK's registry (InkResponse, ContractExecResult,
// ContractInstantiateResult). Prints one JSON object.
//
//   ORACLE=<oracle copy with node_modules> node sdk-query.mjs URL FLIPPER_ID CODE_HASH
import { createRequire } from 'module';
import path from 'path';

const ORACLE = process.env.ORACLE;
const require = createRequire(path.join(ORACLE, 'package.json'));
const publicSdk = require('@phala/sdk'); // unmodified public entry
const L = require(path.join(ORACLE, 'lib', 'sdk-internals.cjs'));
const I = L.internals;
const { phalaTypes } = I;
const { u8aToHex, hexToU8a } = L.util;
const { cryptoWaitReady, sr25519PairFromSeed, sr25519Agreement } = L.utilCrypto;
const { Keyring } = L.keyringPkg;
const crypto = await import('crypto');

const [url, flipper, codeHash] = process.argv.slice(2);
await cryptoWaitReady();
const out = {};
const client = publicSdk.createPruntimeClient(url);
const info = await client.getInfo({});
out.info = { initialized: info.initialized, ecdhPublicKey: info.ecdhPublicKey, publicKey: info.publicKey,
  blocknum: info.blocknum, headernum: info.headernum, genesisBlockHash: info.genesisBlockHash, devMode: info.devMode, version: info.version };

// Every random draw of the SDK comes from the pinned queue: feed it real randomness.
const rnd = (n) => crypto.randomBytes(n);
const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
L.queueRandom(rnd(32));
const cert = await I.signCertificate({ pair: alice });
const pair = sr25519PairFromSeed(rnd(32));
const agree = (workerHex) => sr25519Agreement(pair.secretKey, hexToU8a('0x' + workerHex));

async function query(encoded, workerHex) {
  L.queueRandom(rnd(12));
  const raw = await I.pinkQuery(client, pair.publicKey, agree(workerHex), encoded.toHex(), cert);
  return phalaTypes.createType('InkResponse', raw);
}
const prefixed = (hex) => L.util.compactAddLength(hexToU8a(hex)); // what Abi message.toU8a gives

// get() on flipper
L.queueRandom(rnd(32));
let q = I.InkQueryMessage(flipper, prefixed('0x2f865bd9'), 0, 0, false);
let resp = await query(q, info.ecdhPublicKey);
out.get_nonce_ok = resp.nonce.toHex() === q.head.nonce.toHex();
const exec = phalaTypes.createType('ContractExecResult', resp.result.asOk.asInkMessageReturn.toHex());
out.get = { ok: exec.result.isOk, flags: exec.result.isOk ? exec.result.asOk.flags.toNumber() : null,
  data: exec.result.isOk ? exec.result.asOk.data.toHex() : null, gasConsumed: exec.gasConsumed.refTime.toString(),
  gasRequired: exec.gasRequired.refTime.toString() };

// constructor dry run, as PinkBlueprintPromise's estimateGas sends it
L.queueRandom(rnd(32));
q = I.InkQueryInstantiate(flipper, codeHash, '0x9bae9d5e01', '0x0102', 0, 0);
resp = await query(q, info.ecdhPublicKey);
const inst = phalaTypes.createType('ContractInstantiateResult', resp.result.asOk.asInkMessageReturn.toHex());
out.instantiate = { ok: inst.result.isOk, accountId: inst.result.isOk ? inst.result.asOk.accountId.toHex() : null };

// unknown contract: an InkQueryError inside the encrypted answer
L.queueRandom(rnd(32));
q = I.InkQueryMessage('0x' + '99'.repeat(32), prefixed('0x2f865bd9'), 0, 0, false);
resp = await query(q, info.ecdhPublicKey);
out.unknown = { isErr: resp.result.isErr, err: resp.result.isErr ? resp.result.asErr.toJSON() : null };

// encrypted to another worker: the SDK's client reports the PrpcError
L.queueRandom(rnd(32));
q = I.InkQueryMessage(flipper, prefixed('0x2f865bd9'), 0, 0, false);
try {
  await query(q, u8aToHex(sr25519PairFromSeed(rnd(32)).publicKey).slice(2));
  out.wrong_key = 'answered';
} catch (e) {
  out.wrong_key = String(e.message);
}
out.random_left = L.pendingRandom();
console.log(JSON.stringify(out));

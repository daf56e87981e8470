// Cella's own formats against vectors the Go code printed
// (test/testdata/cella-vectors.json, from `go run ./sdk-ts/test/testdata/gen`),
// signers (keyring and a wallet's signRaw), and ink! metadata. No network.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { sr25519Verify } from '@polkadot/util-crypto';
import { Keyring } from '@polkadot/keyring';
import type { Signer as PolkadotSigner, SignerPayloadRaw } from '@polkadot/types/types';
import {
  CODE_NAMES, clusterId, codeHash, commandId, ContractMetadata, contractAddress, decodeCommandOutcome, decodeLogPage,
  decodeResponse, encode, encodeTx, encodeTxBody, instantiateCall, issueCertificate, pairFromUri, parseAddress, pushCommandCall,
  QueryError, ready, signedMessage, signerFromExtension, signerFromPair, signerFromUri, signingPayload, signTx, SignatureType,
  ss58, transferCall, uploadCodeCall, verifySr25519, NO_OUTCOME, NO_LOGS, MAX_CODE_SIZE, MAX_SALT_LEN, MAX_COMMAND_SIZE, MAX_TX_BYTES,
  DEFAULT_VALIDITY, DEFAULT_FEE_LIMIT, DEFAULT_GAS_LIMIT, PHAT_WEIGHTS, DEFAULT_SS58_PREFIX, DEFAULT_NODE_URL, DEFAULT_WORKER_URL,
  QUERY_CERT_TTL,
} from '../src/index.js';
import type { TxBody } from '../src/index.js';
import { repoFile, testdata } from './helpers.js';

const h = (s: string) => hexToU8a(s);
const hex = (b: Uint8Array) => u8aToHex(b);

describe('Cella wire formats (Go vectors)', () => {
  const V = testdata('cella-vectors.json');
  let body: TxBody;
  before(async () => {
    await ready();
    const t = V.tx;
    body = {
      signer: h(V.keys.alice), genesis: h(t.genesis), nonce: BigInt(t.nonce), validUntil: BigInt(t.validUntil),
      feeLimit: BigInt(t.feeLimit), call: transferCall(h(V.keys.bob), 1_000_000_000_000n),
    };
  });

  test('transaction: body, signing payload, signed bytes, wrapped', async () => {
    const t = V.tx;
    assert.equal(hex(body.call.args), t.call.args);
    assert.equal(body.call.module, t.call.module);
    assert.equal(body.call.method, t.call.method);
    assert.equal(hex(encodeTxBody(body)), t.body);
    assert.equal(hex(signingPayload(body)), t.signingPayload);
    assert.equal(hex(encodeTx(body, false, h(t.signature))), t.signed);
    assert.equal(hex(signedMessage(body, true)), t.wrappedMessage);
    // Our own signature verifies over the Go payload.
    const raw = await signTx(signerFromUri('//Alice'), body);
    assert.equal(hex(raw.subarray(0, raw.length - 65)), t.body);
    assert.equal(raw[raw.length - 65], 0);
    assert.ok(sr25519Verify(h(t.signingPayload), raw.subarray(raw.length - 64), h(V.keys.alice)));
    // Payloads over 256 bytes are signed through their blake2-256 hash.
    const long = { ...body, call: uploadCodeCall(clusterId(0), new Uint8Array(300).fill(0xab)) };
    assert.equal(hex(encodeTxBody(long)), t.longBody);
    assert.equal(hex(signingPayload(long)), t.longSigningHash);
  });

  test('a wallet signRaw signs transactions (<Bytes> wrapping) and certificates (Sr25519WrapBytes)', async () => {
    const alice = pairFromUri('//Alice');
    const calls: string[] = [];
    const injected: PolkadotSigner = {
      signRaw: async (raw: SignerPayloadRaw) => {
        calls.push(raw.type);
        assert.equal(raw.address, alice.address);
        // What the extension does: sign <Bytes>data</Bytes>.
        return { id: 1, signature: hex(alice.sign(u8aWrapBytes(h(raw.data)))) };
      },
    };
    const wallet = signerFromExtension(alice.address, injected);
    const raw = await signTx(wallet, body);
    assert.equal(raw[raw.length - 65], 1, 'wrapping byte');
    // The Go vector of a wrapped tx has the same bytes but its own signature.
    assert.equal(hex(raw.subarray(0, raw.length - 64)), V.tx.wrappedSigned.slice(0, 2 + 2 * (raw.length - 64)));
    assert.ok(sr25519Verify(h(V.tx.wrappedMessage), raw.subarray(raw.length - 64), alice.publicKey));
    const sub = new Uint8Array(32).fill(7);
    const cert = await issueCertificate(wallet, sub);
    assert.equal(cert.signature!.signatureType, SignatureType.Sr25519WrapBytes);
    assert.ok(verifySr25519(SignatureType.Sr25519WrapBytes, cert.encodedBody, cert.signature!.signature, alice.publicKey));
    assert.ok(!verifySr25519(SignatureType.Sr25519, cert.encodedBody, cert.signature!.signature, alice.publicKey));
    assert.deepEqual(calls, ['bytes', 'bytes']);
    // A wallet that signs with another key is caught.
    const bob = pairFromUri('//Bob');
    const liar = signerFromExtension(alice.address, { signRaw: async (r) => ({ id: 1, signature: hex(bob.sign(u8aWrapBytes(h(r.data)))) }) });
    await assert.rejects(signTx(liar, body), /not an sr25519 signature/);
    assert.throws(() => signerFromPair(new Keyring({ type: 'ed25519' }).addFromUri('//Alice')), /sr25519 only/);
  });

  test('phat calls: upload_code, instantiate, push_command', () => {
    const c = V.calls;
    const up = uploadCodeCall(clusterId(0), h(c.upload.code));
    assert.deepEqual([up.module, up.method, hex(up.args)], [c.upload.module, c.upload.method, c.upload.args]);
    assert.equal(hex(codeHash(h(c.upload.code))), c.upload.codeHash);
    const inst = instantiateCall({
      cluster: clusterId(0), codeHash: c.upload.codeHash, data: h('0x9bae9d5e01'), salt: h('0x0102'), transfer: 5n,
      gasLimit: 100_000_000_000n, storageDepositLimit: 12345n,
    });
    assert.deepEqual([inst.module, inst.method, hex(inst.args)], [c.instantiate.module, c.instantiate.method, c.instantiate.args]);
    assert.equal(hex(instantiateCall({ cluster: clusterId(0), codeHash: c.upload.codeHash, data: h('0x9bae9d5e00'), gasLimit: 1000n }).args), c.instantiateNone);
    const push = pushCommandCall('0x' + 'cc'.repeat(32), h('0x000102'), 100_000_000_000n, 9n);
    assert.deepEqual([push.module, push.method, hex(push.args)], [c.push.module, c.push.method, c.push.args]);
  });

  test('ids: clusters, contract address, command id, ss58', () => {
    const i = V.ids;
    assert.equal(hex(clusterId(0)), i.cluster0);
    assert.equal(hex(clusterId(1)), i.cluster1);
    assert.equal(hex(contractAddress(V.keys.alice, V.calls.upload.codeHash, clusterId(0), h('0x0102'))), i.contractAddress);
    assert.equal(hex(commandId(5, 2)), i.commandId_5_2);
    assert.equal(ss58(V.keys.alice), i.aliceSS58);
    assert.equal(hex(parseAddress(i.aliceSS58)), V.keys.alice);
    assert.throws(() => parseAddress('0x1234'), /32-byte/);
  });

  test('worker answers: CommandOutcome, LogPage, NoOutcome error; LogRequest', () => {
    const o = decodeCommandOutcome('0x01', h(V.outcome));
    assert.equal(o.height, 42n);
    assert.equal(o.reverted, true);
    assert.equal(o.success, false);
    assert.equal(o.trapped, false);
    assert.equal(hex(o.output), '0x0001');
    assert.equal(o.gasUsed, 123456n);
    assert.equal(o.events.length, 1);
    assert.equal(hex(o.events[0].topics[0]), '0x' + 'ee'.repeat(32));
    assert.equal(hex(o.events[0].data), '0x0708');
    const r = decodeCommandOutcome('0x02', h(V.outcomeRefused));
    assert.equal(r.refused, 'nonce seen before');
    assert.equal(r.trapped, false);
    assert.throws(() => decodeCommandOutcome('0x', h(V.outcome).subarray(0, 50)));
    assert.throws(() => decodeCommandOutcome('0x', new Uint8Array([...h(V.outcome), 1])), /trailing/);
    const p = decodeLogPage(h(V.logPage));
    assert.equal(p.lines.length, 2);
    assert.deepEqual([p.lines[0].level, p.lines[0].message, p.lines[0].inQuery], ['info', 'hello', false]);
    assert.deepEqual([p.lines[1].level, p.lines[1].message, p.lines[1].inQuery], ['error', 'boom', true]);
    assert.equal(p.next, 2n);
    assert.equal(hex(encode('CellaLogRequest', { after: 5n, max: 100 })), V.logRequest);
    assert.throws(() => decodeResponse(h(V.noOutcome), new Uint8Array(32).fill(0xaa)),
      (e: unknown) => e instanceof QueryError && e.detail === NO_OUTCOME);
  });

  test("limits, defaults and weights match the Go code's", () => {
    const L = V.limits;
    assert.deepEqual({
      maxCodeSize: MAX_CODE_SIZE, maxSaltLen: MAX_SALT_LEN, maxCommandPayload: MAX_COMMAND_SIZE, maxTxBytes: MAX_TX_BYTES,
      defaultValidity: Number(DEFAULT_VALIDITY), defaultFeeLimit: String(DEFAULT_FEE_LIMIT), defaultGasLimit: Number(DEFAULT_GAS_LIMIT),
      uploadWeight: Number(PHAT_WEIGHTS.upload), uploadWeightPerByte: Number(PHAT_WEIGHTS.uploadPerByte),
      instantiateWeight: Number(PHAT_WEIGHTS.instantiate), pushWeight: Number(PHAT_WEIGHTS.push),
      payloadWeightPerByte: Number(PHAT_WEIGHTS.payloadPerByte), defaultSS58Prefix: DEFAULT_SS58_PREFIX,
      defaultNodeURL: DEFAULT_NODE_URL, defaultWorkerURL: DEFAULT_WORKER_URL, noOutcome: NO_OUTCOME, noLogs: NO_LOGS,
      queryCertTTL: QUERY_CERT_TTL,
    }, L);
  });

  test('result code names match the chain', () => {
    assert.deepEqual(Object.fromEntries(Object.entries(CODE_NAMES).map(([k, v]) => [String(k), v])), V.codeNames);
  });
});

describe('ink! metadata through Abi', () => {
  test('flipper: constructor, messages, return values', () => {
    const md = new ContractMetadata(JSON.parse(repoFile('internal/contract/testcontracts/flipper.json').toString()));
    assert.equal(hex(md.encodeConstructor('new', [true])), '0x9bae9d5e01');
    assert.equal(hex(md.encodeMessage('flip')), '0x633aa551');
    assert.equal(hex(md.encodeMessage('get')), '0x2f865bd9');
    assert.deepEqual(md.decodeReturn('get', h('0x0001')).toJSON(), { ok: true });
    assert.throws(() => md.decodeReturn('get', h('0x000100')), /trailing/);
    assert.throws(() => md.encodeMessage('nope'), /no message nope/);
    assert.equal(md.wasm(), undefined);
    // A .contract bundle carries the code.
    const bundle = JSON.parse(repoFile('internal/contract/testcontracts/flipper.json').toString());
    const wasm = repoFile('internal/contract/testcontracts/flipper.wasm');
    bundle.source.wasm = hex(wasm);
    assert.equal(hex(new ContractMetadata(bundle).wasm()!), hex(wasm));
  });

  test('erc20: message args and events', () => {
    const md = new ContractMetadata(repoFile('internal/contract/testcontracts/erc20.json').toString());
    const bob = pairFromUri('//Bob');
    const data = md.encodeMessage('transfer', [bob.address, 250]);
    assert.equal(hex(data.subarray(4, 36)), hex(bob.publicKey));
    const ev = md.abi.events[0];
    assert.ok(ev, 'erc20 has an event');
  });
});

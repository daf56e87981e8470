// The TS SDK's Phat wire formats against the real @phala/sdk's recorded
// vectors (../shared/oracle/phala/vectors.json and exec-results.json), byte
// for byte. Skips when the oracle folder is absent.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { sr25519Verify } from '@polkadot/util-crypto';
import {
  aesDecrypt, aesEncrypt, agree, decodeContractQueryResponse, decodeEncryptedData, decodeExecResult, decodeResponse,
  encodeCertificate, encodeCertificateBody, encodeContractQueryRequest, encodeEncryptedData, encodeInkCommand, encodeQuery,
  encryptedCommandPayload, ephemeralPair, issueCertificate, open, pairFromUri, plainCommandPayload, QueryError, ready, seal,
  signQuery, signerFromUri, SignatureType, ss58,
} from '../src/index.js';
import type { Certificate, RawPair, Signature } from '../src/index.js';
import { oracleDir, oracleFile } from './helpers.js';

const dir = oracleDir();
const skip = dir ? false : 'the @phala/sdk oracle (../shared/oracle/phala or $CELLA_PHALA_ORACLE) is absent';
const h = (s: string) => hexToU8a(s);
const hex = (b: Uint8Array) => u8aToHex(b);

describe('@phala/sdk vectors', { skip }, () => {
  let V: any;
  let X: any;
  const K: Record<string, RawPair> = {};
  before(async () => {
    await ready();
    V = oracleFile('vectors.json');
    X = oracleFile('exec-results.json');
    for (const [name, k] of Object.entries<any>(V.keys)) {
      if (k.seed) {
        K[name] = ephemeralPair(h(k.seed));
      }
    }
  });

  test('keys: //Alice and seeded pairs', () => {
    const alice = pairFromUri('//Alice');
    assert.equal(hex(alice.publicKey), V.keys.alice.publicKey);
    assert.equal(ss58(alice.publicKey), V.keys.alice.address);
    for (const [name, k] of Object.entries<any>(V.keys)) {
      if (k.seed) {
        assert.equal(hex(K[name].publicKey), k.publicKey, name);
        assert.equal(hex(K[name].secretKey), k.secretKey, name);
      }
    }
  });

  test('ecdh agreement, both ways', () => {
    for (const e of V.ecdh) {
      assert.equal(hex(agree(K[e.sk_of].secretKey, K[e.pk_of].publicKey)), e.shared);
      assert.equal(hex(agree(K[e.pk_of].secretKey, K[e.sk_of].publicKey)), e.reverse);
    }
  });

  test('aes-256-gcm', async () => {
    for (const c of V.aes_256_gcm) {
      const ct = await aesEncrypt(h(c.key), h(c.iv), h(c.plaintext));
      assert.equal(hex(ct), c.ciphertext_and_tag);
      assert.equal(hex(await aesDecrypt(h(c.key), h(c.iv), ct)), c.plaintext);
      const bad = ct.slice();
      bad[0] ^= 1;
      await assert.rejects(aesDecrypt(h(c.key), h(c.iv), bad), /does not decrypt/);
    }
  });

  test('EncryptedData envelope', async () => {
    const e = V.encrypted_data;
    const env = await seal(K[e.sender], K[e.receiver].publicKey, h(e.plaintext), h(e.iv));
    assert.equal(hex(env.data), e.data);
    assert.equal(hex(env.pubkey), e.pubkey);
    const scale = encodeEncryptedData(env);
    assert.equal(hex(scale), e.scale);
    const back = decodeEncryptedData(scale, 1024);
    assert.equal(hex(await open(K[e.receiver], back.pubkey, back)), e.plaintext);
    assert.throws(() => decodeEncryptedData(new Uint8Array([...scale, 0]), 1024), /trailing/);
    assert.throws(() => decodeEncryptedData(scale, scale.length - 1), /limit/);
  });

  test('ContractQuery: InkMessage, SidevmMessage, InkInstantiate', () => {
    const q = V.contract_query;
    const m = q.ink_message;
    assert.equal(hex(encodeQuery(h(m.id), h(m.nonce), { InkMessage: { payload: h(m.payload_raw), deposit: 0n, transfer: 0n, estimating: false } })), m.scale);
    const mv = q.ink_message_values;
    assert.equal(hex(encodeQuery(h(mv.id), h(mv.nonce), {
      InkMessage: { payload: h(mv.payload_raw), deposit: BigInt(mv.deposit), transfer: BigInt(mv.transfer), estimating: mv.estimating },
    })), mv.scale);
    const s = q.sidevm_message;
    assert.equal(hex(encodeQuery(h(s.id), h(s.nonce), { SidevmMessage: new TextEncoder().encode(s.json) })), s.scale);
    const i = q.ink_instantiate;
    assert.equal(hex(encodeQuery(h(i.id), h(i.nonce), {
      InkInstantiate: { codeHash: h(i.codeHash), salt: h(i.salt), instantiateData: h(i.instantiateData), deposit: BigInt(i.deposit), transfer: BigInt(i.transfer) },
    })), i.scale);
  });

  test('certificate: bodies, signature, protobuf', async () => {
    const c = V.certificate;
    const alice = signerFromUri('//Alice');
    assert.equal(hex(encodeCertificateBody(h(c.ephemeral_pubkey), c.ttl)), c.body_scale);
    assert.equal(hex(encodeCertificateBody(alice.publicKey, c.ttl)), c.root_body_scale);
    const cert = await issueCertificate(alice, h(c.ephemeral_pubkey));
    assert.equal(hex(cert.encodedBody), c.body_scale);
    assert.equal(cert.signature!.signatureType, c.signature_type);
    assert.equal(hex(cert.signature!.signedBy.encodedBody), c.root_body_scale);
    assert.ok(sr25519Verify(cert.encodedBody, cert.signature!.signature, alice.publicKey));
    // The signature is randomized: with the SDK's, the protobuf is the SDK's.
    cert.signature!.signature = h(c.signature);
    assert.equal(hex(encodeCertificate(cert)), c.protobuf);
  });

  test('query request: envelope, signature, protobuf', async () => {
    const r = V.query_request;
    const c = V.certificate;
    const env = encodeEncryptedData(await seal(K.query_ephemeral, K.worker.publicKey, h(r.encoded_query), h(r.iv)));
    assert.equal(hex(env), r.encrypted_data_scale);
    const cert: Certificate = {
      encodedBody: h(c.body_scale),
      signature: { signedBy: { encodedBody: h(c.root_body_scale) }, signatureType: SignatureType.Sr25519, signature: h(c.signature) },
    };
    const sig: Signature = signQuery(cert, K.cert_ephemeral, env);
    assert.equal(sig.signatureType, r.signature_type);
    assert.ok(sr25519Verify(env, sig.signature, K.cert_ephemeral.publicKey));
    sig.signature = h(r.signature);
    assert.equal(hex(encodeContractQueryRequest(env, sig)), r.protobuf);
  });

  test('query response: protobuf, envelope, InkResponse', async () => {
    const r = V.query_response;
    const { encodedEncryptedData } = decodeContractQueryResponse(h(r.protobuf));
    assert.equal(hex(encodedEncryptedData), r.encrypted_data_scale);
    const env = decodeEncryptedData(encodedEncryptedData, 1 << 20);
    const plain = await open(K.query_ephemeral, K.worker.publicKey, env);
    assert.equal(hex(plain), r.sdk_pinkQuery_returned);
    assert.equal(hex(decodeResponse(plain, h(r.ink_response.nonce))), '0x0102030405');
    assert.throws(() => decodeResponse(plain, new Uint8Array(32)), /nonce/);
    assert.throws(() => decodeResponse(h(r.ink_response_err_example), h(r.ink_response.nonce)),
      (e: unknown) => e instanceof QueryError && e.kind === 'RuntimeError' && e.detail === 'boom');
    // Opened with the wrong peer (the envelope's claimed key is never trusted): fails.
    await assert.rejects(open(K.query_ephemeral, K.contract.publicKey, env));
    assert.throws(() => decodeContractQueryResponse(h(r.protobuf).subarray(0, 10)), /malformed/);
  });

  test('commands: plain, plain with values, encrypted', async () => {
    const c = V.command;
    const cmd = { nonce: h(c.nonce), message: h(c.message_raw), transfer: 0n, gasLimit: BigInt(c.gas_limit), storageDepositLimit: null };
    assert.equal(hex(plainCommandPayload(cmd)), c.plain.scale);
    assert.equal(hex(plainCommandPayload({ ...cmd, transfer: BigInt(c.plain_values.transfer), storageDepositLimit: BigInt(c.plain_values.storage_deposit_limit) })), c.plain_values.scale);
    const e = c.encrypted;
    assert.equal(hex(encodeInkCommand(cmd)), e.inner_plaintext_scale);
    assert.equal(hex(await encryptedCommandPayload(h(e.contract_pubkey), cmd, K.command_ephemeral, h(e.iv))), e.scale);
    assert.throws(() => plainCommandPayload({ ...cmd, nonce: new Uint8Array(33) }), /32 bytes/);
  });

  test('exec results: ContractExecResult and ContractInstantiateResult', () => {
    const ok = decodeExecResult(h(X.contract_exec_result.scale));
    assert.equal(hex(ok.output), '0x0000');
    assert.equal(ok.gasConsumed, 1000n);
    assert.equal(ok.gasRequired, 2000n);
    assert.equal(ok.reverted, false);
    assert.equal(ok.storageDeposit, 0n);
    const rev = decodeExecResult(h(X.contract_exec_result_reverted.scale));
    assert.equal(rev.reverted, true);
    assert.equal(rev.debug, 'boom');
    assert.equal(rev.storageDeposit, -5n);
    const inst = decodeExecResult(h(X.contract_instantiate_result.scale), true);
    assert.equal(hex(inst.output), '0x00');
    assert.equal(ss58(inst.accountId!), X.contract_instantiate_result.value.result.ok.accountId);
    assert.throws(() => decodeExecResult(new Uint8Array([...h(X.contract_exec_result.scale), 0])), /trailing/);
  });
});

// Phala's Phat-contract wire formats, byte-identical with @phala/sdk 0.5.10
// (checked against its recorded vectors): sr25519 ECDH + AES-256-GCM
// envelopes, certificates, signed queries, command payloads, and the
// protobuf of pRPC's ContractQueryRequest / ContractQueryResponse.
//
// Envelopes are built on @polkadot/util-crypto (sr25519 keys and ECDH) and
// WebCrypto's AES-GCM (globalThis.crypto.subtle, in Node >= 19 and every
// browser): @phala/sdk itself is not a dependency, because it pins an older
// @polkadot/api and pulls in its whole chain client; the formats are small
// and fixed, and the vectors keep us honest.
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { randomAsU8a, sr25519Agreement, sr25519PairFromSeed, sr25519Sign, sr25519Verify } from '@polkadot/util-crypto';
import type { Signer } from './keys.js';
import { decodeStrict, encode } from './types.js';

/** A raw sr25519 key pair (64-byte secret as @polkadot/util-crypto has it). */
export interface RawPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh sr25519 key pair from 32 random bytes (or from seed). */
export function ephemeralPair(seed: Uint8Array = randomAsU8a(32)): RawPair {
  return sr25519PairFromSeed(seed);
}

/** The 32-byte sr25519 ECDH agreement of secret and peer's public key. */
export function agree(secretKey: Uint8Array, peer: Uint8Array): Uint8Array {
  return sr25519Agreement(secretKey, peer);
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new Error('cella: WebCrypto (globalThis.crypto.subtle) is not available');
  }
  return s;
}

/** AES-256-GCM encryption (12-byte iv, no AAD, 16-byte tag appended). */
export async function aesEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const k = await subtle().importKey('raw', new Uint8Array(key), 'AES-GCM', false, ['encrypt']);
  return new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: new Uint8Array(iv) }, k, new Uint8Array(plaintext)));
}

/** AES-256-GCM decryption; throws when the tag does not verify. */
export async function aesDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  if (ciphertext.length < 16) {
    throw new Error('cella: ciphertext shorter than its tag');
  }
  const k = await subtle().importKey('raw', new Uint8Array(key), 'AES-GCM', false, ['decrypt']);
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: new Uint8Array(iv) }, k, new Uint8Array(ciphertext)));
  } catch {
    throw new Error('cella: the envelope does not decrypt (wrong key or tampered data)');
  }
}

/** Phala's EncryptedData: iv, the sender's ECDH public key, ciphertext ‖ tag. */
export interface EncryptedData {
  iv: Uint8Array;
  pubkey: Uint8Array;
  data: Uint8Array;
}

/** SCALE of EncryptedData ([u8;12] ‖ [u8;32] ‖ Vec<u8>). */
export function encodeEncryptedData(e: EncryptedData): Uint8Array {
  return encode('PhatEncryptedData', { iv: e.iv, pubkey: e.pubkey, data: u8aToHex(e.data) });
}

/** Decodes a SCALE EncryptedData (at most max bytes, no trailing bytes). */
export function decodeEncryptedData(b: Uint8Array, max: number): EncryptedData {
  const v = decodeStrict<any>('PhatEncryptedData', b, max);
  return { iv: v.iv.toU8a(), pubkey: v.pubkey.toU8a(), data: v.data.toU8a(true) };
}

/** Seals plaintext from sender to the receiver's ECDH public key. */
export async function seal(sender: RawPair, receiver: Uint8Array, plaintext: Uint8Array, iv: Uint8Array = randomAsU8a(12)): Promise<EncryptedData> {
  if (iv.length !== 12) {
    throw new Error('cella: an AES-GCM iv has 12 bytes');
  }
  const key = agree(sender.secretKey, receiver);
  return { iv, pubkey: sender.publicKey, data: await aesEncrypt(key, iv, plaintext) };
}

/** Opens an envelope with our secret, agreeing with peer (never with the envelope's claimed key). */
export async function open(ours: RawPair, peer: Uint8Array, e: EncryptedData): Promise<Uint8Array> {
  return aesDecrypt(agree(ours.secretKey, peer), e.iv, e.data);
}

// ------------------------------------------------------------------ commands

/** An ink! message call sent as a command (Phala's InkCommand::InkMessage). */
export interface InkCommand {
  /** Random, at most 32 bytes: it makes every command unique. */
  nonce: Uint8Array;
  /** selector ‖ SCALE arguments. */
  message: Uint8Array;
  transfer: bigint;
  gasLimit: bigint;
  storageDepositLimit?: bigint | null;
}

function inkCommandValue(c: InkCommand) {
  if (c.nonce.length > 32) {
    throw new Error('cella: a command nonce has at most 32 bytes');
  }
  return {
    InkMessage: {
      nonce: u8aToHex(c.nonce), message: u8aToHex(c.message), transfer: c.transfer, gasLimit: c.gasLimit,
      storageDepositLimit: c.storageDepositLimit ?? null,
    },
  };
}

/** SCALE of InkCommand. */
export function encodeInkCommand(c: InkCommand): Uint8Array {
  return encode('PhatInkCommand', inkCommandValue(c));
}

/** The CommandPayload::Plain(InkCommand) of a plain command (anyone can read it on chain). */
export function plainCommandPayload(c: InkCommand): Uint8Array {
  return encode('PhatCommandPayload', { Plain: inkCommandValue(c) });
}

/**
 * The CommandPayload::Encrypted(EncryptedData) of a command sealed from a
 * fresh ephemeral key to the contract's ECDH key, as @phala/sdk's
 * EncryptedInkCommand. sender and iv are for tests.
 */
export async function encryptedCommandPayload(contractPubkey: Uint8Array, c: InkCommand, sender: RawPair = ephemeralPair(), iv?: Uint8Array): Promise<Uint8Array> {
  const env = await seal(sender, contractPubkey, encodeInkCommand(c), iv);
  return encode('PhatCommandPayload', { Encrypted: { iv: env.iv, pubkey: env.pubkey, data: u8aToHex(env.data) } });
}

// ------------------------------------------------------------- certificates

/** pRuntime's signature types (protobuf enum SignatureType). */
export enum SignatureType {
  Ed25519 = 0,
  Sr25519 = 1,
  Ecdsa = 2,
  Ed25519WrapBytes = 3,
  Sr25519WrapBytes = 4,
  EcdsaWrapBytes = 5,
}

/** A certificate: an encoded CertificateBody, signed by a parent unless it is a root. */
export interface Certificate {
  encodedBody: Uint8Array;
  signature?: Signature;
}

/** A signature by the key that signedBy's body names. */
export interface Signature {
  signedBy: Certificate;
  signatureType: SignatureType;
  signature: Uint8Array;
}

/** @phala/sdk's default certificate ttl: effectively none (each query has a fresh key). */
export const QUERY_CERT_TTL = 0x7fffffff;

/** SCALE CertificateBody {pubkey: Vec<u8>, ttl: u32, config_bits: u32}. */
export function encodeCertificateBody(pubkey: Uint8Array, ttl: number, configBits = 0): Uint8Array {
  return encode('PhatCertificateBody', { pubkey: u8aToHex(pubkey), ttl, configBits });
}

/**
 * The certificate by which account vouches for the (ephemeral) key sub
 * until block ttl, as @phala/sdk's signCertificate: body {sub, ttl, 0}
 * signed by the account, with the account's own unsigned certificate as
 * signed_by. A wallet's signRaw gives an Sr25519WrapBytes signature.
 */
export async function issueCertificate(account: Signer, sub: Uint8Array, ttl = QUERY_CERT_TTL): Promise<Certificate> {
  const body = encodeCertificateBody(sub, ttl);
  const { signature, wrapped } = await account.sign(body);
  return {
    encodedBody: body,
    signature: {
      signedBy: { encodedBody: encodeCertificateBody(account.publicKey, ttl) },
      signatureType: wrapped ? SignatureType.Sr25519WrapBytes : SignatureType.Sr25519,
      signature,
    },
  };
}

/** Signs a query's encoded envelope with the certificate's key (Sr25519, unwrapped), as pinkQuery. */
export function signQuery(cert: Certificate, certKey: RawPair, encodedEncryptedData: Uint8Array): Signature {
  return { signedBy: cert, signatureType: SignatureType.Sr25519, signature: sr25519Sign(encodedEncryptedData, certKey) };
}

/** Verifies an sr25519 signature of either kind (for tests and checks). */
export function verifySr25519(type: SignatureType, message: Uint8Array, signature: Uint8Array, pubkey: Uint8Array): boolean {
  const m = type === SignatureType.Sr25519WrapBytes ? u8aConcat('<Bytes>', message, '</Bytes>') : message;
  return sr25519Verify(m, signature, pubkey);
}

// ------------------------------------------------------------------ queries

/** The three query kinds (Phala's InkQueryData). */
export type QueryData =
  | { InkMessage: { payload: Uint8Array; deposit: bigint; transfer: bigint; estimating: boolean } }
  | { SidevmMessage: Uint8Array }
  | { InkInstantiate: { codeHash: Uint8Array; salt: Uint8Array; instantiateData: Uint8Array; deposit: bigint; transfer: bigint } };

/** Bound of a query's plaintext (pRuntime's request limit). */
export const MAX_QUERY_SIZE = 500 << 10;
/** Bound of an answer's plaintext. */
export const MAX_RESPONSE_SIZE = 10 << 20;

/** SCALE ContractQuery {head: {id, nonce}, data}. */
export function encodeQuery(id: Uint8Array, nonce: Uint8Array, data: QueryData): Uint8Array {
  let d: unknown;
  if ('InkMessage' in data) {
    const m = data.InkMessage;
    d = { InkMessage: { payload: u8aToHex(m.payload), deposit: m.deposit, transfer: m.transfer, estimating: m.estimating } };
  } else if ('SidevmMessage' in data) {
    d = { SidevmMessage: u8aToHex(data.SidevmMessage) };
  } else {
    const i = data.InkInstantiate;
    d = { InkInstantiate: { codeHash: i.codeHash, salt: u8aToHex(i.salt), instantiateData: u8aToHex(i.instantiateData), deposit: i.deposit, transfer: i.transfer } };
  }
  return encode('PhatInkQuery', { head: { id, nonce }, data: d });
}

/** A failed query's answer (pRuntime's QueryError). */
export class QueryError extends Error {
  constructor(readonly kind: string, readonly detail?: string) {
    super(kind === 'RuntimeError' ? `contract query: RuntimeError: ${detail}` : `contract query: ${kind}`);
    this.name = 'QueryError';
  }
}

/** Decodes a query answer's plaintext, checks its nonce and returns the payload (or throws QueryError). */
export function decodeResponse(plain: Uint8Array, nonce: Uint8Array): Uint8Array {
  const r = decodeStrict<any>('PhatInkResponse', plain, MAX_RESPONSE_SIZE);
  if (u8aToHex(r.nonce.toU8a()) !== u8aToHex(nonce)) {
    throw new Error('cella: the answer does not echo the query\'s nonce');
  }
  if (r.result.isErr) {
    const e = r.result.asErr;
    throw new QueryError(e.type, e.isRuntimeError ? e.asRuntimeError.toString() : undefined);
  }
  return r.result.asOk.asInkMessageReturn.toU8a(true);
}

/**
 * An account's certificate for a key of the SDK's own, reusable for many
 * queries: with a wallet, one signRaw prompt instead of one per query
 * (@phala/sdk caches its certificate the same way). Anyone holding it can
 * query as the account until ttl; keep it in memory only.
 */
export interface CertifiedKey {
  publicKey: Uint8Array; // the account's
  certificate: Certificate;
  key: RawPair;
}

/** Certifies a fresh key for account's queries until block ttl. */
export async function certify(account: Signer, ttl = QUERY_CERT_TTL): Promise<CertifiedKey> {
  const key = ephemeralPair();
  return { publicKey: account.publicKey, certificate: await issueCertificate(account, key.publicKey, ttl), key };
}

function isCertified(a: Signer | CertifiedKey): a is CertifiedKey {
  return (a as CertifiedKey).certificate !== undefined;
}

/** A sealed, signed query ready to post, and what is needed to open its answer. */
export interface SealedQuery {
  request: Uint8Array; // protobuf ContractQueryRequest
  nonce: Uint8Array;
  ecdh: RawPair;
  workerEcdh: Uint8Array;
}

/**
 * Builds a query as @phala/sdk's pinkQuery: the ContractQuery with a random
 * nonce, sealed from a fresh ECDH key to the worker's ECDH key, signed by a
 * key the account certifies (a fresh one, or a CertifiedKey's).
 */
export async function sealQuery(account: Signer | CertifiedKey, workerEcdh: Uint8Array, target: Uint8Array, data: QueryData): Promise<SealedQuery> {
  const nonce = randomAsU8a(32);
  const q = encodeQuery(target, nonce, data);
  if (q.length > MAX_QUERY_SIZE) {
    throw new Error(`cella: query over ${MAX_QUERY_SIZE} bytes`);
  }
  const { certificate, key } = isCertified(account) ? account : await certify(account);
  const ecdh = ephemeralPair();
  const env = encodeEncryptedData(await seal(ecdh, workerEcdh, q));
  return { request: encodeContractQueryRequest(env, signQuery(certificate, key, env)), nonce, ecdh, workerEcdh };
}

/** Opens a ContractQueryResponse (protobuf) to a sealed query and returns the payload. */
export async function openAnswer(q: SealedQuery, responseProtobuf: Uint8Array): Promise<Uint8Array> {
  const { encodedEncryptedData } = decodeContractQueryResponse(responseProtobuf);
  const env = decodeEncryptedData(encodedEncryptedData, MAX_RESPONSE_SIZE + 64);
  return decodeResponse(await open(q.ecdh, q.workerEcdh, env), q.nonce);
}

// ----------------------------------------------------------------- protobuf

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function bytesField(field: number, b: Uint8Array): Uint8Array {
  if (b.length === 0) {
    return new Uint8Array(); // proto3: empty bytes are not written
  }
  return u8aConcat(new Uint8Array([...varint((field << 3) | 2), ...varint(b.length)]), b);
}

function encodeCertificatePb(c: Certificate): Uint8Array {
  return u8aConcat(bytesField(1, c.encodedBody), c.signature ? bytesField(2, encodeSignaturePb(c.signature)) : new Uint8Array());
}

function encodeSignaturePb(s: Signature): Uint8Array {
  const t = s.signatureType === 0 ? new Uint8Array() : new Uint8Array([...varint(2 << 3), ...varint(s.signatureType)]);
  return u8aConcat(bytesField(1, encodeCertificatePb(s.signedBy)), t, bytesField(3, s.signature));
}

/** Protobuf pruntime_rpc.Certificate. */
export function encodeCertificate(c: Certificate): Uint8Array {
  return encodeCertificatePb(c);
}

/** Protobuf pruntime_rpc.ContractQueryRequest {1: encoded_encrypted_data, 2: Signature}. */
export function encodeContractQueryRequest(encodedEncryptedData: Uint8Array, signature?: Signature): Uint8Array {
  return u8aConcat(bytesField(1, encodedEncryptedData), signature ? bytesField(2, encodeSignaturePb(signature)) : new Uint8Array());
}

/** Decodes protobuf pruntime_rpc.ContractQueryResponse {1: encoded_encrypted_data, 2: blocknum}; unknown fields are skipped. */
export function decodeContractQueryResponse(b: Uint8Array): { encodedEncryptedData: Uint8Array; blocknum: number } {
  let i = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= b.length || shift > 63n) {
        throw new Error('cella: malformed protobuf varint');
      }
      const x = b[i++];
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) {
        return v;
      }
    }
  };
  let data: Uint8Array = new Uint8Array();
  let blocknum = 0;
  while (i < b.length) {
    const tag = readVarint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const v = readVarint();
      if (field === 2) {
        blocknum = Number(v & 0xffffffffn);
      }
    } else if (wire === 2) {
      const n = Number(readVarint());
      if (n > b.length - i) {
        throw new Error('cella: malformed protobuf: field longer than the message');
      }
      if (field === 1) {
        data = b.subarray(i, i + n);
      }
      i += n;
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4;
      if (i > b.length) {
        throw new Error('cella: malformed protobuf: truncated field');
      }
    } else {
      throw new Error(`cella: malformed protobuf: wire type ${wire}`);
    }
  }
  return { encodedEncryptedData: data, blocknum };
}

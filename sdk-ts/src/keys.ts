// Accounts and signers. A Signer is anything that signs with sr25519 under
// the "substrate" context: a keyring pair (//Alice, a mnemonic) signs the
// message itself; a polkadot.js extension's signRaw signs
// "<Bytes>" ‖ message ‖ "</Bytes>", which the chain (tx wrapping 1) and the
// workers (Sr25519WrapBytes) accept as well.
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Signer as PolkadotSigner } from '@polkadot/types/types';
import { hexToU8a, isHex, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, decodeAddress, encodeAddress, sr25519Verify } from '@polkadot/util-crypto';

/** Cella's SS58 address prefix (a node's chainInfo() tells its own). */
export const DEFAULT_SS58_PREFIX = 42;

/** A signature and whether it covers the message wrapped in <Bytes>…</Bytes>. */
export interface SignResult {
  signature: Uint8Array;
  wrapped: boolean;
}

/** An sr25519 account that signs transactions, certificates and queries. */
export interface Signer {
  /** The 32-byte sr25519 public key (the account id). */
  readonly publicKey: Uint8Array;
  /** Signs message (raw bytes) and says how. */
  sign(message: Uint8Array): Promise<SignResult>;
}

/**
 * The raw-signing part of a polkadot.js extension's injected signer
 * (`(await web3FromAddress(addr)).signer`, @polkadot/types' Signer):
 * signRaw({address, data, type: 'bytes'}).
 */
export type RawSigner = Pick<PolkadotSigner, 'signRaw'>;

/** Waits for the sr25519 wasm; every function that signs or derives keys needs it. */
export async function ready(): Promise<void> {
  await cryptoWaitReady();
}

/** A keyring pair from a secret URI (//Alice, a BIP-39 mnemonic, 0xSEED, with /soft//hard///password). */
export function pairFromUri(suri: string): KeyringPair {
  return new Keyring({ type: 'sr25519', ss58Format: DEFAULT_SS58_PREFIX }).addFromUri(suri);
}

/** A Signer of a keyring pair (signs the message itself). */
export function signerFromPair(pair: KeyringPair): Signer {
  if (pair.type !== 'sr25519') {
    throw new Error(`cella: ${pair.type} keys cannot sign: Cella accepts sr25519 only`);
  }
  return {
    publicKey: pair.publicKey,
    sign: async (message) => ({ signature: pair.sign(message), wrapped: false }),
  };
}

/** A Signer of a secret URI; call ready() first. */
export function signerFromUri(suri: string): Signer {
  return signerFromPair(pairFromUri(suri));
}

/**
 * A Signer of a polkadot.js extension account: signatures come from its
 * signRaw, which signs "<Bytes>" ‖ message ‖ "</Bytes>". The signature is
 * checked against the address before it is used.
 */
export function signerFromExtension(address: string, injected: RawSigner): Signer {
  const publicKey = decodeAddress(address);
  const signRaw = injected.signRaw;
  if (!signRaw) {
    throw new Error('cella: the extension signer has no signRaw');
  }
  return {
    publicKey,
    async sign(message) {
      const { signature } = await signRaw({ address, data: u8aToHex(message), type: 'bytes' });
      const sig = hexToU8a(signature);
      if (sig.length !== 64 || !sr25519Verify(u8aWrapBytes(message), sig, publicKey)) {
        throw new Error('cella: the extension returned a signature that is not an sr25519 signature of <Bytes>message</Bytes> by ' + address);
      }
      return { signature: sig, wrapped: true };
    },
  };
}

/** Reads an SS58 address (any prefix) or a 0x-prefixed 32-byte hex id. */
export function parseAddress(s: string): Uint8Array {
  if (isHex(s)) {
    const b = hexToU8a(s);
    if (b.length !== 32) {
      throw new Error(`cella: ${s} is not a 32-byte id`);
    }
    return b;
  }
  const b = decodeAddress(s);
  if (b.length !== 32) {
    throw new Error(`cella: ${s} is not a 32-byte account`);
  }
  return b;
}

/** Reads an address given as bytes, 0x hex or SS58. */
export function toAccount(a: Uint8Array | string): Uint8Array {
  if (typeof a === 'string') {
    return parseAddress(a);
  }
  if (a.length !== 32) {
    throw new Error(`cella: an account id has 32 bytes, not ${a.length}`);
  }
  return a;
}

/** The SS58 form of a 32-byte id. */
export function ss58(id: Uint8Array | string, prefix = DEFAULT_SS58_PREFIX): string {
  return encodeAddress(toAccount(id), prefix);
}

/** Reads a 0x-prefixed 32-byte hex value (hashes, cluster ids). */
export function parseHash(h: Uint8Array | string): Uint8Array {
  const b = typeof h === 'string' ? (isHex(h) ? hexToU8a(h) : new Uint8Array()) : h;
  if (b.length !== 32) {
    throw new Error(`cella: ${typeof h === 'string' ? h : u8aToHex(h)} is not a 32-byte hex value`);
  }
  return b;
}

/** The id of the chain's n-th cluster (0 is the first): n big-endian in the last 8 bytes. */
export function clusterId(n: number | bigint): Uint8Array {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setBigUint64(24, BigInt(n), false);
  return id;
}

/** The hash of contract code: blake2-256. */
export function codeHash(code: Uint8Array): Uint8Array {
  return blake2AsU8a(code, 256);
}

/**
 * The address a contract gets: blake2-256(deployer ‖ code_hash ‖ cluster ‖
 * salt), Phala's contract_id_preimage.
 */
export function contractAddress(deployer: Uint8Array | string, codeHashValue: Uint8Array | string, cluster: Uint8Array | string, salt: Uint8Array = new Uint8Array()): Uint8Array {
  const parts = [toAccount(deployer), parseHash(codeHashValue), parseHash(cluster), salt];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return blake2AsU8a(all, 256);
}

/** The chain's id of the message at index of the block at height: blake2-256(u64 LE ‖ u32 LE). */
export function commandId(height: number | bigint, index: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(height), true);
  v.setUint32(8, index, true);
  return blake2AsU8a(b, 256);
}

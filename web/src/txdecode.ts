// Decoding a block's raw transactions for display: the SCALE transaction
// (internal/tx), its call's name from the server's call table, and the
// arguments of the calls people care about.
import { decodeStrict, ss58, MAX_TX_BYTES } from '@cella-network/sdk';
import { u8aToHex } from '@polkadot/util';
import { sha256AsU8a } from '@polkadot/util-crypto';

/** A decoded transaction, or the reason it did not decode. */
export interface DecodedTx {
  hash: string;
  size: number;
  error?: string;
  signer?: string;
  nonce?: string;
  feeLimit?: string;
  validUntil?: string;
  wrapped?: boolean;
  module?: number;
  method?: number;
  call?: string;
  args?: Record<string, string>;
}

/** Decodes raw transaction bytes; calls maps "module.method" indices to names. */
export function decodeTx(raw: Uint8Array, calls: Record<string, string>, ss58Prefix: number): DecodedTx {
  const out: DecodedTx = { hash: u8aToHex(sha256AsU8a(raw)), size: raw.length };
  try {
    const t = decodeStrict<any>('CellaTx', raw, MAX_TX_BYTES);
    const b = t.body;
    out.signer = ss58(b.signer.toU8a(), ss58Prefix);
    out.nonce = b.nonce.toString();
    out.feeLimit = b.feeLimit.toString();
    out.validUntil = b.validUntil.toString();
    out.wrapped = t.wrapping.toNumber() === 1;
    out.module = b.call.module.toNumber();
    out.method = b.call.method.toNumber();
    out.call = calls[`${out.module}.${out.method}`] ?? `module(${out.module}).method(${out.method})`;
    out.args = decodeArgs(out.call, b.call.args.toU8a(true), ss58Prefix);
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

const ARG_TYPES: Record<string, string> = {
  'balances.transfer': 'CellaTransferArgs',
  'phat.upload_code': 'CellaUploadArgs',
  'phat.instantiate': 'CellaInstantiateArgs',
  'phat.push_command': 'CellaPushArgs',
};

function decodeArgs(call: string, args: Uint8Array, prefix: number): Record<string, string> {
  const type = ARG_TYPES[call];
  if (!type) {
    return { args: args.length > 96 ? `${u8aToHex(args.subarray(0, 96))}… (${args.length} bytes)` : u8aToHex(args) };
  }
  try {
    const a = decodeStrict<any>(type as any, args, MAX_TX_BYTES);
    switch (call) {
      case 'balances.transfer':
        return { dest: ss58(a.dest.toU8a(), prefix), amount: a.amount.unwrap().toString() };
      case 'phat.upload_code':
        return { cluster: a.cluster.toHex(), kind: a.kind.toNumber() === 0 ? 'ink' : 'indeterministic', code: `${a.code.length} bytes` };
      case 'phat.instantiate':
        return {
          cluster: a.cluster.toHex(), codeHash: a.codeHash.toHex(), data: a.data.toHex(), salt: a.salt.toHex(),
          transfer: a.transfer.toString(), gasLimit: a.gasLimit.toString(),
        };
      case 'phat.push_command': {
        const payload: Uint8Array = a.payload.toU8a(true);
        const kind = payload[0] === 1 ? 'encrypted' : payload[0] === 0 ? 'plain' : 'unknown';
        return { contract: a.contract.toHex(), payload: `${kind}, ${payload.length} bytes`, gasLimit: a.gasLimit.toString(), deposit: a.deposit.toString() };
      }
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
  return {};
}

/** Base64 (the node's JSON for bytes) to bytes. */
export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    b[i] = bin.charCodeAt(i);
  }
  return b;
}

/** Base units to tokens with the chain's decimals, exactly. */
export function formatAmount(v: bigint | string, decimals: number): string {
  const n = BigInt(v);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const d = 10n ** BigInt(decimals);
  const frac = (a % d).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / d}${frac ? '.' + frac : ''}`;
}

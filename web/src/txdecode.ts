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
    out.args = decodeArgs(out.call, b.call.args.toU8a(true), ss58Prefix, calls);
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
  'gov.propose': 'CellaProposeArgs',
  'gov.vote': 'CellaVoteArgs',
  'gov.set_council': 'CellaSetCouncilArgs',
  'gov.schedule_upgrade': 'CellaUpgradeArgs',
  'registry.allow_measurement': 'CellaHashArg',
  'registry.disallow_measurement': 'CellaHashArg',
  'gatekeeper.add': 'CellaHashArg',
  'gatekeeper.remove': 'CellaHashArg',
};

/** Calls that take no arguments. */
const NO_ARGS = new Set(['admin.remove', 'gov.cancel_upgrade']);

/**
 * Decodes the arguments of the call named call ("module.method") for
 * display; calls maps "module.method" indices to names. A proposal's inner call (gov.propose) is named and
 * decoded too.
 */
export function decodeCallArgs(call: string, args: Uint8Array, calls: Record<string, string>, prefix: number): Record<string, string> {
  return decodeArgs(call, args, prefix, calls);
}

function rawArgs(args: Uint8Array): Record<string, string> {
  return { args: args.length > 96 ? `${u8aToHex(args.subarray(0, 96))}… (${args.length} bytes)` : u8aToHex(args) };
}

function decodeArgs(call: string, args: Uint8Array, prefix: number, calls: Record<string, string>, depth = 0): Record<string, string> {
  if (NO_ARGS.has(call) && args.length === 0) {
    return {};
  }
  const type = ARG_TYPES[call];
  if (!type || (call === 'gov.propose' && depth > 0)) {
    return rawArgs(args);
  }
  try {
    const a = decodeStrict<any>(type as any, args, MAX_TX_BYTES);
    switch (call) {
      case 'gov.propose': {
        const m = a.call.module.toNumber();
        const me = a.call.method.toNumber();
        const inner = calls[`${m}.${me}`] ?? `module(${m}).method(${me})`;
        const ia = decodeArgs(inner, a.call.args.toU8a(true), prefix, calls, depth + 1);
        return {
          call: inner, ...ia, referendum: a.referendum.isTrue ? 'yes' : 'no',
        };
      }
      case 'gov.vote':
        return { id: a.id.toString(), vote: a.aye.isTrue ? 'aye' : 'nay', stake: a.stake.unwrap().toString() };
      case 'gov.set_council':
        return { members: a.members.map((m: any) => ss58(m.toU8a(), prefix)).join(', '), threshold: a.threshold.toString() };
      case 'gov.schedule_upgrade':
        return { height: a.height.toString(), appVersion: a.appVersion.toString() };
      case 'registry.allow_measurement':
      case 'registry.disallow_measurement':
        return { measurement: a.toHex() };
      case 'gatekeeper.add':
      case 'gatekeeper.remove':
        return { worker: a.toHex() };
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
    return { error: (e as Error).message, ...rawArgs(args) };
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

// The chain: a Cella node's CometBFT JSON-RPC (abci_query for the app's
// query paths, broadcast_tx_sync, tx, tx_search, status), and Cella's
// transaction format (internal/tx): SCALE body, signed under the domain
// "cella/tx/v1" (blake2-256 of the payload when it is over 256 bytes),
// optionally <Bytes>-wrapped as a wallet's signRaw signs.
import { hexToU8a, u8aConcat, u8aToHex, u8aWrapBytes, stringToU8a } from '@polkadot/util';
import { base64Decode, base64Encode, blake2AsU8a, sha256AsU8a } from '@polkadot/util-crypto';
import type { Signer } from './keys.js';
import { parseHash, toAccount } from './keys.js';
import { encode } from './types.js';
import { codeName } from './codes.js';
import { decodeGovInfo, decodeProposal, proposalKey } from './gov.js';
import type { GovInfo, Proposal } from './gov.js';

/** The RPC URL of a node on this machine (and of `cella dev`). */
export const DEFAULT_NODE_URL = 'http://127.0.0.1:26657';
/** How many blocks a transaction stays valid when the caller does not say. */
export const DEFAULT_VALIDITY = 600n;
/** The fee limit when none is given: one token. The chain charges the fee, never the limit. */
export const DEFAULT_FEE_LIMIT = 1_000_000_000_000n;
/** Transaction format version 1. */
export const TX_VERSION = 1;
/** Signature scheme sr25519. */
export const SCHEME_SR25519 = 1;
/** Signing payloads longer than this are signed through their blake2-256 hash. */
export const MAX_UNHASHED_PAYLOAD = 256;
/** Prefix of every signing payload. */
export const SIGNING_DOMAIN = 'cella/tx/v1';
/** The largest transaction a node accepts. */
export const MAX_TX_BYTES = 4 << 20;
/** The most bytes read from a node's answer. */
export const MAX_RESPONSE_BYTES = 32 << 20;

/** A chain call: module and method indices and SCALE arguments. */
export interface Call {
  module: number;
  method: number;
  args: Uint8Array;
}

/** The signed part of a transaction. */
export interface TxBody {
  signer: Uint8Array;
  genesis: Uint8Array;
  nonce: bigint;
  validUntil: bigint;
  feeLimit: bigint;
  call: Call;
}

/** SCALE of a transaction body. */
export function encodeTxBody(b: TxBody): Uint8Array {
  return encode('CellaTxBody', {
    version: TX_VERSION, scheme: SCHEME_SR25519, signer: b.signer, genesis: b.genesis, nonce: b.nonce,
    validUntil: b.validUntil, feeLimit: b.feeLimit, call: { module: b.call.module, method: b.call.method, args: u8aToHex(b.call.args) },
  });
}

/** The bytes a transaction's signer signs: domain ‖ SCALE(body), or their blake2-256 when longer than 256 bytes. */
export function signingPayload(b: TxBody): Uint8Array {
  const p = u8aConcat(stringToU8a(SIGNING_DOMAIN), encodeTxBody(b));
  return p.length > MAX_UNHASHED_PAYLOAD ? blake2AsU8a(p, 256) : p;
}

/** The message a signature covers under a wrapping (1: <Bytes>…</Bytes>). */
export function signedMessage(b: TxBody, wrapped: boolean): Uint8Array {
  const p = signingPayload(b);
  return wrapped ? u8aWrapBytes(p) : p;
}

/** A signed transaction's bytes: body ‖ wrapping u8 ‖ signature. */
export function encodeTx(b: TxBody, wrapped: boolean, signature: Uint8Array): Uint8Array {
  if (signature.length !== 64) {
    throw new Error('cella: an sr25519 signature has 64 bytes');
  }
  return u8aConcat(encodeTxBody(b), new Uint8Array([wrapped ? 1 : 0]), signature);
}

/** Signs a body: the signer chooses the wrapping (a wallet wraps). */
export async function signTx(signer: Signer, b: TxBody): Promise<Uint8Array> {
  const p = signingPayload(b);
  const { signature, wrapped } = await signer.sign(p);
  return encodeTx(b, wrapped, signature);
}

/** CometBFT's transaction hash: SHA-256 of the raw bytes. */
export function txHash(raw: Uint8Array): Uint8Array {
  return sha256AsU8a(raw);
}

// --------------------------------------------------------------- call builders

/** balances.transfer(dest, Compact<u128> amount). */
export function transferCall(dest: Uint8Array | string, amount: bigint): Call {
  return { module: 1, method: 0, args: encode('CellaTransferArgs', { dest: toAccount(dest), amount }) };
}

/** Module index of phat. */
export const PHAT_MODULE = 7;
/** Code kinds of upload_code. */
export const CODE_KIND_INK = 0;
export const CODE_KIND_INDETERMINISTIC = 1;

/** phat.upload_code(cluster, kind, code). */
export function uploadCodeCall(cluster: Uint8Array | string, code: Uint8Array, kind = CODE_KIND_INK): Call {
  return { module: PHAT_MODULE, method: 3, args: encode('CellaUploadArgs', { cluster: parseHash(cluster), kind, code: u8aToHex(code) }) };
}

/** The arguments of phat.instantiate. */
export interface InstantiateArgs {
  cluster: Uint8Array | string;
  codeHash: Uint8Array | string;
  data: Uint8Array;
  salt?: Uint8Array;
  transfer?: bigint;
  gasLimit: bigint;
  storageDepositLimit?: bigint | null;
}

/** phat.instantiate(cluster, code_hash, data, salt, transfer, gas_limit, storage_deposit_limit). */
export function instantiateCall(a: InstantiateArgs): Call {
  return {
    module: PHAT_MODULE, method: 4,
    args: encode('CellaInstantiateArgs', {
      cluster: parseHash(a.cluster), codeHash: parseHash(a.codeHash), data: u8aToHex(a.data), salt: u8aToHex(a.salt ?? new Uint8Array()),
      transfer: a.transfer ?? 0n, gasLimit: a.gasLimit, storageDepositLimit: a.storageDepositLimit ?? null,
    }),
  };
}

/** phat.push_command(contract, payload, gas_limit, deposit). */
export function pushCommandCall(contract: Uint8Array | string, payload: Uint8Array, gasLimit: bigint, deposit = 0n): Call {
  return {
    module: PHAT_MODULE, method: 5,
    args: encode('CellaPushArgs', { contract: toAccount(contract), payload: u8aToHex(payload), gasLimit, deposit }),
  };
}

// ------------------------------------------------------------------ node RPC

/** ABCI query codes. */
export const QUERY_NOT_FOUND = 3;

/** An error a node answered to a query. */
export class QueryFailed extends Error {
  constructor(readonly path: string, readonly code: number, readonly log: string) {
    super(`query ${path}: ${log} (code ${code})`);
    this.name = 'QueryFailed';
  }
  /** Whether the node found nothing. */
  get notFound(): boolean {
    return this.code === QUERY_NOT_FOUND;
  }
}

/** A transaction the node refused (CheckTx failed). */
export class TxRejected extends Error {
  constructor(readonly code: number, readonly log: string) {
    super(`transaction rejected: ${log || codeName(code)} (code ${code}, ${codeName(code)})`);
    this.name = 'TxRejected';
  }
}

/** Chain parameters (amounts in base units). */
export interface ChainParams {
  existentialDeposit: bigint;
  baseFee: bigint;
  byteFee: bigint;
  weightFee: bigint;
  maxBlockWeight: bigint;
  ss58Prefix: number;
}

/** What a node says about its chain. */
export interface ChainInfo {
  chainId: string;
  genesisHash: string;
  appVersion: number;
  height: number;
  appHash: string;
  ss58Prefix: number;
  /** Set on development chains, where //Alice's keys are public. */
  dev: boolean;
  decimals: number;
  params: ChainParams;
}

/** An account's nonce and free balance. */
export interface AccountInfo {
  address: string;
  nonce: bigint;
  free: bigint;
}

/** An event of a transaction, attributes by key. */
export interface TxEvent {
  type: string;
  attributes: Record<string, string>;
}

/** A committed transaction's result. */
export interface TxResult {
  hash: string;
  height: number;
  /** The chain's result code (0: success) and its name. */
  code: number;
  result: string;
  log: string;
  weight: number;
  events: TxEvent[];
  /** The transaction as signed, when the node's answer carried it (accountTxs). */
  tx?: Uint8Array;
}

/** The most transactions accountTxs returns per page (CometBFT's tx_search cap). */
export const MAX_TXS_PER_PAGE = 100;

/** One page of an account's transactions, newest first. */
export interface TxPage {
  /** How many transactions the account signed in all. */
  total: number;
  txs: TxResult[];
}

/** The tx_search query for the transactions an account signed: tx.signer='0x…' (its public key, lowercase hex). */
export function accountTxsQuery(account: Uint8Array | string): string {
  return `tx.signer='${u8aToHex(toAccount(account))}'`;
}

/** Options of sending a transaction. */
export interface TxOptions {
  /** Override the account's next nonce. */
  nonce?: bigint;
  /** Last height at which the tx may be included (default: height + 600). */
  validUntil?: bigint;
  /** Most the signer pays in fees (default DEFAULT_FEE_LIMIT, or what the call needs). */
  feeLimit?: bigint;
  /** Wait for the block (default true). */
  wait?: boolean;
  /** How long to wait, ms (default 60 s). */
  timeoutMs?: number;
}

/** A sent transaction: its hash, nonce and, when waited for, its result. */
export interface Sent {
  hash: string;
  nonce: bigint;
  result?: TxResult;
}

/** How often the waiting methods poll, ms. */
export let pollIntervalMs = 200;
/** Sets pollIntervalMs. */
export function setPollInterval(ms: number): void {
  pollIntervalMs = ms;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads at most max bytes of a response body; more is an error. */
export async function readBounded(res: Response, max: number): Promise<Uint8Array> {
  const len = Number(res.headers.get('content-length') ?? '0');
  if (len > max) {
    throw new Error(`cella: answer of ${len} bytes, limit ${max}`);
  }
  if (!res.body) {
    return new Uint8Array();
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    n += value.length;
    if (n > max) {
      await reader.cancel();
      throw new Error(`cella: answer over ${max} bytes`);
    }
    chunks.push(value);
  }
  return u8aConcat(...chunks);
}

function b64(b: Uint8Array): string {
  return base64Encode(b);
}

function unb64(s: string | undefined | null): Uint8Array {
  return s ? base64Decode(s) : new Uint8Array();
}

/** A connection to one node's RPC. */
export class Chain {
  readonly url: string;
  private id = 0;
  private genesis?: Uint8Array;

  /** url: http://host:26657 (default DEFAULT_NODE_URL). It does not contact the node. */
  constructor(url: string = DEFAULT_NODE_URL) {
    this.url = (url.includes('://') ? url : 'http://' + url).replace(/\/+$/, '');
  }

  /** Calls a CometBFT JSON-RPC method. */
  async rpc<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new Error(`cannot reach a node at ${this.url} (is \`cella dev\` or \`cella node\` running?): ${(e as Error).message}`);
    }
    const text = new TextDecoder().decode(await readBounded(res, MAX_RESPONSE_BYTES));
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`node ${this.url}: ${method}: not a JSON-RPC answer (HTTP ${res.status}): ${text.slice(0, 200)}`);
    }
    if (body.error) {
      const e = new Error(`node ${this.url}: ${method}: ${body.error.message}${body.error.data ? ': ' + body.error.data : ''}`);
      (e as any).rpcError = body.error;
      throw e;
    }
    return body.result as T;
  }

  /** Runs an ABCI query on the app and returns the answer's bytes. */
  async abciQuery(path: string, data: Uint8Array = new Uint8Array()): Promise<Uint8Array> {
    const r = await this.rpc('abci_query', { path, data: u8aToHex(data, -1, false), prove: false });
    const resp = r.response ?? {};
    const code = Number(resp.code ?? 0);
    if (code !== 0) {
      throw new QueryFailed(path, code, resp.log ?? '');
    }
    return unb64(resp.value);
  }

  /** Runs an ABCI query that answers JSON. */
  async queryJSON<T = any>(path: string, data?: Uint8Array): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.abciQuery(path, data)));
  }

  /** CometBFT's status: latest height and time, node identity, sync state. */
  async status(): Promise<{ height: number; time: string; network: string; catchingUp: boolean; raw: any }> {
    const s = await this.rpc('status', {});
    return {
      height: Number(s.sync_info.latest_block_height), time: s.sync_info.latest_block_time,
      network: s.node_info.network, catchingUp: !!s.sync_info.catching_up, raw: s,
    };
  }

  /** The chain's identity, parameters and last height (app query /chain). */
  async chainInfo(): Promise<ChainInfo> {
    const ci = await this.queryJSON('/chain');
    const p = ci.params ?? {};
    const big = (v: unknown) => BigInt(String(v ?? '0'));
    return {
      chainId: ci.chainId, genesisHash: ci.genesisHash, appVersion: Number(ci.appVersion ?? 0), height: Number(ci.height),
      appHash: ci.appHash, ss58Prefix: Number(ci.ss58Prefix), dev: !!ci.dev, decimals: Number(ci.decimals ?? 12),
      params: {
        existentialDeposit: big(p.existential_deposit), baseFee: big(p.base_fee), byteFee: big(p.byte_fee),
        weightFee: big(p.weight_fee), maxBlockWeight: big(p.max_block_weight), ss58Prefix: Number(p.ss58_prefix ?? 42),
      },
    };
  }

  /** The height of the last committed block. */
  async height(): Promise<number> {
    return (await this.chainInfo()).height;
  }

  /** An account's nonce and free balance. */
  async account(id: Uint8Array | string): Promise<AccountInfo> {
    const a = await this.queryJSON('/account', toAccount(id));
    return { address: a.address, nonce: BigInt(a.nonce), free: BigInt(a.free) };
  }

  /** An account's free balance in base units. */
  async balance(id: Uint8Array | string): Promise<bigint> {
    return (await this.account(id)).free;
  }

  /** The registered workers (identity, ECDH key, endpoint, TEE, …) as the node's JSON has them. */
  async workerRecords(): Promise<WorkerRecord[]> {
    return this.queryJSON('/workers');
  }

  /** One registered worker by identity key; QueryFailed (notFound) when not registered. */
  async workerRecord(identity: Uint8Array | string): Promise<WorkerRecord> {
    const ws = await this.queryJSON<WorkerRecord[]>('/workers', toAccount(identity));
    if (ws.length !== 1) {
      throw new Error(`query /workers: ${ws.length} answers for one worker`);
    }
    return ws[0];
  }

  /** The gatekeepers and the master public key. */
  async gatekeepers(): Promise<any> {
    return this.queryJSON('/gatekeepers');
  }

  /** Every cluster. */
  async clusters(): Promise<ClusterRecord[]> {
    return this.queryJSON('/clusters');
  }

  /** One cluster; QueryFailed (notFound) when there is none. */
  async cluster(id: Uint8Array | string): Promise<ClusterRecord> {
    return this.queryJSON('/cluster', parseHash(id));
  }

  /** Contracts of a cluster, or of every cluster. */
  async contracts(cluster?: Uint8Array | string): Promise<ContractRecord[]> {
    return this.queryJSON('/contracts', cluster === undefined ? undefined : parseHash(cluster));
  }

  /** One contract; QueryFailed (notFound) when there is none. */
  async contract(id: Uint8Array | string): Promise<ContractRecord> {
    return this.queryJSON('/contract', toAccount(id));
  }

  /** Uploaded code's kind and size; QueryFailed (notFound) when unknown. */
  async code(hash: Uint8Array | string): Promise<{ hash: string; kind: string; size: number }> {
    return this.queryJSON('/code', parseHash(hash));
  }

  /** Governance: council and settings, app version and upgrades, open and latest proposals (app query /gov). */
  async gov(): Promise<GovInfo> {
    return decodeGovInfo(await this.queryJSON('/gov'));
  }

  /** One proposal with its votes; QueryFailed (notFound) when there is none with this id. */
  async proposal(id: number | bigint): Promise<Proposal> {
    return decodeProposal(await this.queryJSON('/gov/proposal', proposalKey(id)));
  }

  /** The chain's genesis hash (asked once). */
  async genesisHash(): Promise<Uint8Array> {
    if (!this.genesis) {
      this.genesis = parseHash((await this.chainInfo()).genesisHash);
    }
    return this.genesis;
  }

  /** Builds and signs a transaction of call by signer (nonce and validity from the chain unless given). */
  async build(signer: Signer, call: Call, o: TxOptions = {}): Promise<{ raw: Uint8Array; nonce: bigint }> {
    const ci = await this.chainInfo();
    const nonce = o.nonce ?? (await this.account(signer.publicKey)).nonce;
    const body: TxBody = {
      signer: signer.publicKey, genesis: parseHash(ci.genesisHash), nonce,
      validUntil: o.validUntil ?? BigInt(ci.height) + DEFAULT_VALIDITY, feeLimit: o.feeLimit ?? DEFAULT_FEE_LIMIT, call,
    };
    const raw = await signTx(signer, body);
    if (raw.length > MAX_TX_BYTES) {
      throw new Error(`cella: transaction of ${raw.length} bytes, limit ${MAX_TX_BYTES}`);
    }
    return { raw, nonce };
  }

  /** Sends raw transaction bytes; returns the hash once the mempool took it (TxRejected otherwise). */
  async submit(raw: Uint8Array): Promise<string> {
    const r = await this.rpc('broadcast_tx_sync', { tx: b64(raw) });
    const code = Number(r.code ?? 0);
    if (code !== 0) {
      throw new TxRejected(code, r.log ?? '');
    }
    return u8aToHex(txHash(raw));
  }

  /** Signs and sends call; by default waits for its block. A committed failure is returned, not thrown: check result.code. */
  async send(signer: Signer, call: Call, o: TxOptions = {}): Promise<Sent> {
    const { raw, nonce } = await this.build(signer, call, o);
    const hash = await this.submit(raw);
    if (o.wait === false) {
      return { hash, nonce };
    }
    return { hash, nonce, result: await this.waitTx(hash, o.timeoutMs) };
  }

  /** Polls until the transaction is in a committed block and returns its result. */
  async waitTx(hash: string | Uint8Array, timeoutMs = 60_000): Promise<TxResult> {
    const h = parseHash(hash);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return txResultOf(await this.rpc('tx', { hash: b64(h), prove: false }), u8aToHex(h));
      } catch (e) {
        if (!/not found/.test((e as Error).message)) {
          throw e;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`waiting for transaction ${u8aToHex(h)}: timed out after ${timeoutMs} ms`);
      }
      await sleep(pollIntervalMs);
    }
  }

  /** Committed transactions matching a CometBFT event query (e.g. "contract_outcome.command_id='0x…'"). */
  async searchTxs(query: string): Promise<TxResult[]> {
    const r = await this.rpc('tx_search', { query, prove: false, order_by: 'asc' });
    return (r.txs ?? []).map((t: any) => txResultOf(t, u8aToHex(hexToU8a('0x' + t.hash))));
  }

  /**
   * Page `page` (from 1) of the committed transactions `account` signed,
   * newest first, `perPage` (1..MAX_TXS_PER_PAGE) per page: every transaction
   * the chain accepted from it (it paid its fee), whether its call succeeded
   * or not, each with its raw bytes (`tx`). The node finds them in its tx
   * index by the app's event tx.signer='0x…'. A page past the last is the
   * node's error.
   */
  async accountTxs(account: Uint8Array | string, page = 1, perPage = 50): Promise<TxPage> {
    if (!Number.isSafeInteger(page) || page < 1) {
      throw new Error(`account transactions: page ${page}, want 1 or more`);
    }
    if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > MAX_TXS_PER_PAGE) {
      throw new Error(`account transactions: ${perPage} per page, want 1..${MAX_TXS_PER_PAGE}`);
    }
    const r = await this.rpc('tx_search', {
      query: accountTxsQuery(account), prove: false, page: String(page), per_page: String(perPage), order_by: 'desc',
    });
    const txs = (r.txs ?? []).slice(0, perPage).map((t: any) => ({ ...txResultOf(t, u8aToHex(hexToU8a('0x' + t.hash))), tx: unb64(t.tx) }));
    return { total: Number(r.total_count ?? txs.length), txs };
  }

  /**
   * The fee limit a call with n argument bytes and weight base + perByte·n
   * needs: twice its fee under the chain's parameters, or undefined when the
   * default limit is higher (the Go SDK's rule).
   */
  async feeLimitFor(n: number, base: bigint, perByte: bigint): Promise<bigint | undefined> {
    const p = (await this.chainInfo()).params;
    const overhead = 512n;
    const fee = (p.byteFee * (BigInt(n) + overhead) + p.baseFee + (base + perByte * BigInt(n)) * p.weightFee) * 2n;
    return fee <= DEFAULT_FEE_LIMIT ? undefined : fee;
  }
}

function txResultOf(r: any, hash: string): TxResult {
  const tr = r.tx_result ?? {};
  const code = Number(tr.code ?? 0);
  return {
    hash, height: Number(r.height), code, result: codeName(code), log: tr.log ?? '', weight: Number(tr.gas_used ?? 0),
    events: (tr.events ?? []).map((e: any) => ({
      type: e.type,
      attributes: Object.fromEntries((e.attributes ?? []).map((a: any) => [a.key, a.value])),
    })),
  };
}

/** A worker in the chain's registry (the node's JSON). */
export interface WorkerRecord {
  identityPublicKey: string;
  ecdhPublicKey: string;
  operator: string;
  teeKind: string;
  measurementHash: string;
  pruntimeVersion: string;
  registeredHeight: number;
  /** The URL of the worker's public API as it recorded it; absent when none. */
  endpoint?: string;
  [k: string]: unknown;
}

/** A cluster (the node's JSON). */
export interface ClusterRecord {
  id: string;
  owner: string;
  permission: string;
  workers: string[];
  pubkey?: string;
  epoch: number;
  keyedWorkers: string[];
  [k: string]: unknown;
}

/** A contract (the node's JSON): state "pending", "instantiated" or "failed"; pubkey once published. */
export interface ContractRecord {
  id: string;
  cluster: string;
  deployer: string;
  codeHash: string;
  state: 'pending' | 'instantiated' | 'failed' | string;
  pubkey?: string;
}

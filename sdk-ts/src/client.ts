// The contract developer's client: transfers, code upload, instantiation,
// encrypted and plain commands, signed encrypted queries, command outcomes
// and contract logs — the capabilities of the Go SDK (sdk/), over a node's
// RPC and a worker's public API (Connect: /cella.pruntime.v1.Public/…, or
// Phala's pRPC /prpc/PhactoryAPI.ContractQuery for plain queries).
import { u8aToHex } from '@polkadot/util';
import { randomAsU8a } from '@polkadot/util-crypto';
import type { Call, Sent, TxOptions, TxResult } from './chain.js';
import {
  Chain, DEFAULT_FEE_LIMIT, instantiateCall, pollIntervalMs, pushCommandCall, readBounded, sleep, transferCall, uploadCodeCall, QueryFailed,
  CODE_KIND_INDETERMINISTIC, CODE_KIND_INK,
} from './chain.js';
import type { Signer } from './keys.js';
import { proposalIdOf, proposeCall, voteCall } from './gov.js';
import { codeHash as hashCode, contractAddress, parseHash, toAccount } from './keys.js';
import type { CertifiedKey, QueryData, SealedQuery } from './phatwire.js';
import { encryptedCommandPayload, openAnswer, plainCommandPayload, QueryError, sealQuery } from './phatwire.js';
import { decodeStrict, encode } from './types.js';

/** The public API of a worker on this machine. */
export const DEFAULT_WORKER_URL = 'http://127.0.0.1:8000';
/** The gas limit when none is given: ample for simple contracts. */
export const DEFAULT_GAS_LIMIT = 100_000_000_000n;
/** The chain's bounds. */
export const MAX_CODE_SIZE = 2 << 20;
export const MAX_SALT_LEN = 256;
export const MAX_COMMAND_SIZE = 1 << 20;
/** The worker's answer when it has no outcome of a command for the asking account. */
export const NO_OUTCOME = 'no outcome for this account and command';
/** The worker's answer to ContractLogs for a contract it keeps no logs of for the asking account (also: not the deployer). */
export const NO_LOGS = 'no logs of this contract for this account';
/** Bound of a worker's answer. */
const MAX_ANSWER = 2 << 20;

/** Weights the chain charges for the phat calls (internal/state/phat), for fee limits. */
export const PHAT_WEIGHTS = {
  upload: 200_000n, uploadPerByte: 50n, instantiate: 300_000n, push: 50_000n, payloadPerByte: 2n,
} as const;
const UPLOAD_WEIGHT = PHAT_WEIGHTS.upload;
const UPLOAD_WEIGHT_PER_BYTE = PHAT_WEIGHTS.uploadPerByte;
const INSTANTIATE_WEIGHT = PHAT_WEIGHTS.instantiate;
const PUSH_WEIGHT = PHAT_WEIGHTS.push;
const PAYLOAD_WEIGHT_PER_BYTE = PHAT_WEIGHTS.payloadPerByte;

/** A failed contract execution in a query (a dispatch error). */
export class ContractError extends Error {
  constructor(readonly error: unknown) {
    super(`contract query failed: dispatch error ${JSON.stringify(error)}`);
    this.name = 'ContractError';
  }
}

/** A contract's answer to a query (pallet-contracts' ContractExecResult). */
export interface QueryResult {
  /** The message's SCALE return value (ContractMetadata.decodeReturn). */
  output: Uint8Array;
  reverted: boolean;
  flags: number;
  gasConsumed: bigint;
  /** The gas limit a command doing the same needs. */
  gasRequired: bigint;
  /** Charged (positive) or refunded (negative). */
  storageDeposit: bigint;
  debug: string;
}

/** Decodes a ContractExecResult (or, with instantiate, a ContractInstantiateResult). */
export function decodeExecResult(b: Uint8Array, instantiate = false): QueryResult & { accountId?: Uint8Array } {
  const r = decodeStrict<any>(instantiate ? 'PhatContractInstantiateResult' : 'PhatContractExecResult', b, 10 << 20);
  const sd = r.storageDeposit;
  const out = {
    gasConsumed: r.gasConsumed.refTime.toBigInt(), gasRequired: r.gasRequired.refTime.toBigInt(),
    storageDeposit: sd.isCharge ? sd.asCharge.toBigInt() : -sd.asRefund.toBigInt(), debug: r.debugMessage.toString(),
  };
  if (r.result.isErr) {
    throw new ContractError(r.result.asErr.toJSON());
  }
  const ok = instantiate ? r.result.asOk.result : r.result.asOk;
  const flags = ok.flags.toNumber();
  return {
    ...out, output: ok.data.toU8a(true), flags, reverted: (flags & 1) !== 0,
    ...(instantiate ? { accountId: r.result.asOk.accountId.toU8a() } : {}),
  };
}

/** An event a contract deposited. */
export interface ContractEvent {
  contract: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
}

/** What a command (or instantiation) did, as the workers of its cluster recorded it for its sender. */
export interface CommandOutcome {
  commandId: string;
  /** The block that carried the command. */
  height: bigint;
  contract: Uint8Array;
  /** Why the cluster did not execute it (bad payload, nonce seen before, …); empty when executed. */
  refused: string;
  /** Set when the execution trapped or failed; error tells. */
  trapped: boolean;
  error: string;
  reverted: boolean;
  flags: number;
  /** The message's SCALE return value (ContractMetadata.decodeReturn). */
  output: Uint8Array;
  gasUsed: bigint;
  events: ContractEvent[];
  /** Executed, neither trapped nor reverted. */
  success: boolean;
}

/** Decodes a worker's SCALE CommandOutcome. */
export function decodeCommandOutcome(commandId: string, b: Uint8Array): CommandOutcome {
  const o = decodeStrict<any>('CellaCommandOutcome', b, 500 << 10);
  const refused = o.refused.toString();
  const error = o.error.toString();
  const flags = o.flags.toNumber();
  const trapped = refused === '' && error !== '';
  const reverted = (flags & 1) !== 0;
  return {
    commandId, height: o.height.toBigInt(), contract: o.contract.toU8a(), refused, trapped, error, reverted, flags,
    output: o.output.toU8a(true), gasUsed: o.gasUsed.toBigInt(),
    events: o.events.map((e: any) => ({ contract: e.contract.toU8a(), topics: e.topics.map((t: any) => t.toU8a()), data: e.data.toU8a(true) })),
    success: refused === '' && !trapped && !reverted,
  };
}

/** One line a contract logged. */
export interface LogLine {
  seq: bigint;
  block: number;
  timeMs: bigint;
  level: string;
  inQuery: boolean;
  message: string;
}

const LOG_LEVELS = ['', 'error', 'warn', 'info', 'debug', 'trace'];

/** Decodes a worker's SCALE LogPage. */
export function decodeLogPage(b: Uint8Array): { lines: LogLine[]; next: bigint } {
  const p = decodeStrict<any>('CellaLogPage', b, 2 << 20);
  const entries = p.get('entries'); // Struct is a Map: .entries is Map's
  if (entries.length > 256) {
    throw new Error('cella: log page over 256 entries');
  }
  return {
    lines: entries.map((e: any) => {
      const lv = e.level.toNumber();
      return {
        seq: e.seq.toBigInt(), block: e.block.toNumber(), timeMs: e.timeMs.toBigInt(),
        level: lv > 0 && lv < LOG_LEVELS.length ? LOG_LEVELS[lv] : `level-${lv}`, inQuery: e.inQuery.isTrue, message: e.message.toString(),
      };
    }),
    next: p.next.toBigInt(),
  };
}

/** A worker's public API, with its ECDH key as the chain's registry has it. */
export class Worker {
  constructor(readonly url: string, readonly identity: Uint8Array, readonly ecdh: Uint8Array) {}

  /** Posts a Connect unary call of Public (binary protobuf) and returns the answer's bytes. */
  async connect(method: 'Query' | 'CommandOutcome' | 'ContractLogs', body: Uint8Array): Promise<Uint8Array> {
    const res = await fetch(`${this.url}/cella.pruntime.v1.Public/${method}`, {
      method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/proto', 'connect-protocol-version': '1' },
      signal: AbortSignal.timeout(60_000),
    });
    const b = await readBounded(res, MAX_ANSWER);
    if (res.status !== 200) {
      let msg = `HTTP ${res.status}`;
      try {
        const e = JSON.parse(new TextDecoder().decode(b));
        msg = `${e.code}: ${e.message}`;
      } catch { /* not JSON */ }
      throw new Error(`worker ${this.url}: ${method}: ${msg}`);
    }
    return b;
  }

  /** Posts Phala's pRPC ContractQuery (protobuf) as @phala/sdk does. */
  async prpcContractQuery(body: Uint8Array): Promise<Uint8Array> {
    const res = await fetch(`${this.url}/prpc/PhactoryAPI.ContractQuery`, {
      method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(60_000),
    });
    const b = await readBounded(res, MAX_ANSWER);
    if (res.status !== 200) {
      throw new Error(`worker ${this.url}: pRPC ContractQuery: HTTP ${res.status}: ${new TextDecoder().decode(b).replace(/[^\x20-\x7e]/g, '')}`);
    }
    return b;
  }

  /** The worker's Info (Connect JSON): initialized, height (string), identity and ECDH keys, clusters, … */
  async info(): Promise<any> {
    return workerInfo(this.url);
  }

  /** Waits until the worker has applied block height (e.g. a code upload's, before a dry run of it). */
  async waitHeight(height: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Number((await this.info()).height ?? 0) < height) {
      if (Date.now() > deadline) {
        throw new Error(`waiting for worker ${this.url} to apply block ${height}: timed out`);
      }
      await sleep(pollIntervalMs);
    }
  }
}

async function workerInfo(url: string): Promise<any> {
  const res = await fetch(`${url}/cella.pruntime.v1.Public/Info`, {
    method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' },
    signal: AbortSignal.timeout(30_000),
  });
  const b = await readBounded(res, 1 << 20);
  if (res.status !== 200) {
    throw new Error(`worker ${url}: Info: HTTP ${res.status}: ${new TextDecoder().decode(b)}`);
  }
  return JSON.parse(new TextDecoder().decode(b));
}

/** Options of upload. */
export interface UploadOptions extends TxOptions {
  cluster?: Uint8Array | string;
  /** Code for queries only (floats allowed); it cannot be instantiated. */
  indeterministic?: boolean;
}

/** Options of instantiate. */
export interface InstantiateOptions extends TxOptions {
  cluster?: Uint8Array | string;
  salt?: Uint8Array;
  /** Transferred to the new contract. */
  value?: bigint;
  gasLimit?: bigint;
  storageDepositLimit?: bigint | null;
}

/** Options of call (a command). */
export interface CallOptions extends TxOptions {
  /** Send unencrypted (anyone can read it on chain). By default it is encrypted to the contract's ECDH key. */
  plain?: boolean;
  value?: bigint;
  gasLimit?: bigint;
  storageDepositLimit?: bigint | null;
}

/** Options of query. */
export interface QueryOptions {
  value?: bigint;
  deposit?: bigint;
  estimating?: boolean;
  /** Post to Phala's pRPC path instead of Connect's. */
  prpc?: boolean;
}

/** A sent command or instantiation: the transaction, and the chain's command id once committed. */
export interface SentCommand extends Sent {
  /** The chain's id of the command (from the transaction's events), once committed and successful. */
  commandId?: string;
}

/** The cluster's report of a command on chain: the gas it used. */
export interface ChainOutcome {
  commandId: string;
  /** The block that carried the command. */
  height: number;
  gasUsed: bigint;
  /** The block that carried the report. */
  reportHeight: number;
}

function commandIdOf(r: TxResult | undefined, type: string): string | undefined {
  return r?.events.find((e) => e.type === type)?.attributes['command_id'];
}

/** Throws for a committed transaction that failed. */
export function checkResult(s: Sent): TxResult {
  const r = s.result;
  if (!r) {
    throw new Error(`cella: transaction ${s.hash} was not waited for`);
  }
  if (r.code !== 0) {
    throw new Error(`transaction ${s.hash} failed in block ${r.height}: ${r.log ? r.log + ' (' + r.result + ')' : r.result}`);
  }
  return r;
}

/** A Cella node client with the contract methods. */
export class Client extends Chain {
  /** balances.transfer: amount base units (10^12 = one token) to dest. */
  async transfer(signer: Signer, dest: Uint8Array | string, amount: bigint, o: TxOptions = {}): Promise<Sent> {
    return this.send(signer, transferCall(dest, amount), o);
  }

  /**
   * gov.propose: proposes a privileged call (e.g. allowMeasurementCall(h)),
   * as a council member, or with referendum as any account (locking the
   * referendum deposit). When waited for and committed, id is the new
   * proposal's id (undefined when the chain refused it: check result.code).
   */
  async propose(signer: Signer, call: Call, o: TxOptions & { referendum?: boolean } = {}): Promise<Sent & { id?: number }> {
    const { referendum, ...txo } = o;
    const sent = await this.send(signer, proposeCall(call, !!referendum), txo);
    return sent.result ? { ...sent, id: proposalIdOf(sent.result) } : sent;
  }

  /** gov.vote: aye or nay on proposal id; a council member votes with stake 0, a referendum voter locks stake. */
  async vote(signer: Signer, id: number | bigint, aye: boolean, stake = 0n, o: TxOptions = {}): Promise<Sent> {
    return this.send(signer, voteCall(id, aye, stake), o);
  }

  private async withFee(call: Call, o: TxOptions, base: bigint, perByte: bigint): Promise<TxOptions> {
    if (o.feeLimit !== undefined) {
      return o;
    }
    return { ...o, feeLimit: (await this.feeLimitFor(call.args.length, base, perByte)) ?? DEFAULT_FEE_LIMIT };
  }

  /** phat.upload_code: makes code available in a cluster (default cluster 0); returns its hash. */
  async upload(signer: Signer, code: Uint8Array, o: UploadOptions = {}): Promise<{ codeHash: string } & Sent> {
    if (code.length === 0 || code.length > MAX_CODE_SIZE) {
      throw new Error(`cella: code of ${code.length} bytes, want 1..${MAX_CODE_SIZE}`);
    }
    const call = uploadCodeCall(o.cluster ?? CLUSTER0, code, o.indeterministic ? CODE_KIND_INDETERMINISTIC : CODE_KIND_INK);
    const sent = await this.send(signer, call, await this.withFee(call, o, UPLOAD_WEIGHT, UPLOAD_WEIGHT_PER_BYTE));
    return { codeHash: u8aToHex(hashCode(code)), ...sent };
  }

  /**
   * phat.instantiate: asks the cluster to create a contract from uploaded
   * code running constructor call data (ContractMetadata.encodeConstructor).
   * The address is computed here (contractAddress); the chain records the
   * contract as pending until the cluster reports: waitContract.
   */
  async instantiate(signer: Signer, codeHashValue: Uint8Array | string, data: Uint8Array, o: InstantiateOptions = {}): Promise<{ address: string } & SentCommand> {
    const salt = o.salt ?? new Uint8Array();
    if (salt.length > MAX_SALT_LEN) {
      throw new Error(`cella: salt of ${salt.length} bytes, at most ${MAX_SALT_LEN}`);
    }
    if (data.length > MAX_COMMAND_SIZE) {
      throw new Error(`cella: constructor data of ${data.length} bytes, at most ${MAX_COMMAND_SIZE}`);
    }
    const cluster = o.cluster ?? CLUSTER0;
    const call = instantiateCall({
      cluster, codeHash: codeHashValue, data, salt, transfer: o.value ?? 0n, gasLimit: o.gasLimit ?? DEFAULT_GAS_LIMIT,
      storageDepositLimit: o.storageDepositLimit ?? null,
    });
    const sent = await this.send(signer, call, await this.withFee(call, o, INSTANTIATE_WEIGHT, PAYLOAD_WEIGHT_PER_BYTE));
    const address = u8aToHex(contractAddress(signer.publicKey, codeHashValue, cluster, salt));
    return { address, ...sent, commandId: commandIdOf(sent.result, 'contract_instantiating') };
  }

  /** Polls until the contract is no longer pending and returns its record (instantiated or failed). */
  async waitContract(address: Uint8Array | string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const c = await this.contract(address);
        if (c.state !== 'pending') {
          return c;
        }
      } catch (e) {
        if (!(e instanceof QueryFailed && e.notFound)) {
          throw e;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`waiting for contract ${typeof address === 'string' ? address : u8aToHex(address)}: timed out`);
      }
      await sleep(pollIntervalMs);
    }
  }

  /**
   * phat.push_command: sends a command calling a contract message (data from
   * ContractMetadata.encodeMessage), encrypted to the contract's published
   * ECDH key unless o.plain. The transaction's success means the chain took
   * the command, not that the message succeeded: commandResult tells.
   */
  async call(signer: Signer, contract: Uint8Array | string, data: Uint8Array, o: CallOptions = {}): Promise<SentCommand> {
    const cmd = {
      nonce: randomAsU8a(32), message: data, transfer: o.value ?? 0n, gasLimit: o.gasLimit ?? DEFAULT_GAS_LIMIT,
      storageDepositLimit: o.storageDepositLimit ?? null,
    };
    let payload: Uint8Array;
    if (o.plain) {
      payload = plainCommandPayload(cmd);
    } else {
      const c = await this.contract(contract);
      if (!c.pubkey) {
        throw new Error(`cella: contract ${c.id} is ${c.state} and has no published key yet: cannot encrypt a command to it`);
      }
      payload = await encryptedCommandPayload(parseHash(c.pubkey), cmd);
    }
    if (payload.length > MAX_COMMAND_SIZE) {
      throw new Error(`cella: command payload of ${payload.length} bytes, at most ${MAX_COMMAND_SIZE}`);
    }
    const call = pushCommandCall(contract, payload, cmd.gasLimit, cmd.transfer);
    const sent = await this.send(signer, call, await this.withFee(call, o, PUSH_WEIGHT, PAYLOAD_WEIGHT_PER_BYTE));
    return { ...sent, commandId: commandIdOf(sent.result, 'contract_command') };
  }

  /** Waits until the cluster's report of a command (gas used) is on chain. */
  async waitOutcome(sent: SentCommand, timeoutMs = 60_000): Promise<ChainOutcome> {
    const r = checkResult(sent);
    if (!sent.commandId) {
      throw new Error('cella: waitOutcome takes the result of instantiate or call');
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const txs = await this.searchTxs(`contract_outcome.command_id='${sent.commandId}'`);
      for (const t of txs) {
        for (const e of t.events) {
          if (e.type === 'contract_outcome' && e.attributes['command_id'] === sent.commandId) {
            return { commandId: sent.commandId, height: r.height, gasUsed: BigInt(e.attributes['gas_used'] ?? '0'), reportHeight: t.height };
          }
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`waiting for the outcome of command ${sent.commandId}: timed out`);
      }
      await sleep(pollIntervalMs);
    }
  }

  /**
   * Connects to the worker at url: asks it for its identity and takes its
   * ECDH key from the chain's registry (a worker announcing another key
   * than its registration is refused), so that only a registered worker can
   * read a query.
   */
  async worker(url: string = DEFAULT_WORKER_URL): Promise<Worker> {
    const u = (url.includes('://') ? url : 'http://' + url).replace(/\/+$/, '');
    const info = await workerInfo(u);
    if (!info.initialized) {
      throw new Error(`worker ${u} is not initialized`);
    }
    const id = parseHash(info.identityPublicKey);
    const rec = await this.workerRecord(id);
    const ecdh = parseHash(rec.ecdhPublicKey);
    if ((info.ecdhPublicKey ?? '').toLowerCase() !== u8aToHex(ecdh)) {
      throw new Error(`worker ${u} announces ECDH key ${info.ecdhPublicKey}, its registration has ${u8aToHex(ecdh)}`);
    }
    return new Worker(u, id, ecdh);
  }

  /** A worker holding the key of cluster (default 0), found through the endpoints in the chain's registry. */
  async clusterWorker(cluster: Uint8Array | string = CLUSTER0): Promise<Worker> {
    const cl = await this.cluster(cluster);
    const errs: string[] = [];
    for (const id of cl.keyedWorkers ?? []) {
      try {
        const rec = await this.workerRecord(id);
        if (!rec.endpoint) {
          continue;
        }
        const w = await this.worker(rec.endpoint);
        if (u8aToHex(w.identity) !== u8aToHex(parseHash(id))) {
          errs.push(`worker ${id}'s endpoint ${rec.endpoint} answers as ${u8aToHex(w.identity)}`);
          continue;
        }
        return w;
      } catch (e) {
        errs.push((e as Error).message);
      }
    }
    throw new Error(`cluster ${cl.id}: no worker holding its key with a reachable endpoint on chain${errs.length ? ': ' + errs.join('; ') : ''}`);
  }

  /** clusterWorker for the cluster of contract. */
  async contractWorker(contract: Uint8Array | string): Promise<Worker> {
    return this.clusterWorker((await this.contract(contract)).cluster);
  }

  private async ask(signer: Signer | CertifiedKey, w: Worker, target: Uint8Array, data: QueryData, method: 'Query' | 'CommandOutcome' | 'ContractLogs', prpc = false): Promise<Uint8Array> {
    const q: SealedQuery = await sealQuery(signer, w.ecdh, target, data);
    const answer = prpc && method === 'Query' ? await w.prpcContractQuery(q.request) : await w.connect(method, q.request);
    return openAnswer(q, answer);
  }

  /**
   * Runs a contract message read-only on worker w as signer's account (data
   * from ContractMetadata.encodeMessage): signed through a certificate for a
   * fresh key, sealed to the worker's registered ECDH key; the answer is
   * decrypted and checked against the query's nonce. signer may be a
   * CertifiedKey (certify()) to sign many queries with one wallet prompt.
   */
  async query(signer: Signer | CertifiedKey, w: Worker, contract: Uint8Array | string, data: Uint8Array, o: QueryOptions = {}): Promise<QueryResult> {
    const payload = await this.ask(signer, w, toAccount(contract), {
      InkMessage: { payload: data, deposit: o.deposit ?? 0n, transfer: o.value ?? 0n, estimating: !!o.estimating },
    }, 'Query', o.prpc);
    return decodeExecResult(payload);
  }

  /** Dry-runs a constructor on worker w in cluster; the address is the one instantiate would give. */
  async queryInstantiate(signer: Signer | CertifiedKey, w: Worker, cluster: Uint8Array | string, codeHashValue: Uint8Array | string, data: Uint8Array, salt: Uint8Array = new Uint8Array(), o: QueryOptions = {}): Promise<QueryResult & { address: string }> {
    const payload = await this.ask(signer, w, parseHash(cluster), {
      InkInstantiate: { codeHash: parseHash(codeHashValue), salt, instantiateData: data, deposit: o.deposit ?? 0n, transfer: o.value ?? 0n },
    }, 'Query', o.prpc);
    const r = decodeExecResult(payload, true);
    delete r.accountId;
    return { ...r, address: u8aToHex(contractAddress(signer.publicKey, codeHashValue, cluster, salt)) };
  }

  /**
   * What command (or instantiation) commandId did, asked of worker w as its
   * sender (only the sender gets it). It waits for the worker to apply the
   * command's block (height, from sent.result.height).
   */
  async commandResult(signer: Signer | CertifiedKey, w: Worker, sent: SentCommand, timeoutMs = 60_000): Promise<CommandOutcome> {
    const r = checkResult(sent);
    if (!sent.commandId) {
      throw new Error('cella: commandResult takes the result of instantiate or call');
    }
    const id = parseHash(sent.commandId);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Read the applied height first: a block applied between the two
      // calls would otherwise turn a real outcome into a final "no outcome".
      const applied = Number((await w.info()).height ?? 0);
      try {
        const payload = await this.ask(signer, w, id, { InkMessage: { payload: new Uint8Array(), deposit: 0n, transfer: 0n, estimating: false } }, 'CommandOutcome');
        return decodeCommandOutcome(sent.commandId, payload);
      } catch (e) {
        if (!(e instanceof QueryError && e.kind === 'RuntimeError' && e.detail === NO_OUTCOME)) {
          throw e;
        }
      }
      if (applied >= r.height) {
        throw new Error(`worker ${w.url}, command ${sent.commandId}: ${NO_OUTCOME}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`waiting for worker ${w.url} to apply block ${r.height}: timed out`);
      }
      await sleep(pollIntervalMs);
    }
  }

  /** The log lines contract wrote on worker w after sequence after (deployer only). */
  async contractLogs(signer: Signer | CertifiedKey, w: Worker, contract: Uint8Array | string, after = 0n, max = 0) {
    const payload = await this.ask(signer, w, toAccount(contract), {
      InkMessage: { payload: encode('CellaLogRequest', { after, max }), deposit: 0n, transfer: 0n, estimating: false },
    }, 'ContractLogs');
    return decodeLogPage(payload);
  }
}

/** Cluster 0's id. */
export const CLUSTER0 = '0x0000000000000000000000000000000000000000000000000000000000000000';

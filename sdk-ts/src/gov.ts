// On-chain governance (module gov, index 8; docs/governance.md): the
// answers of the app queries /gov and /gov/proposal (internal/chainapi's
// GovInfo and ProposalInfo) as typed values, and the builders of gov.propose,
// gov.vote and of the privileged calls a proposal usually carries.
//
// Conventions as in the rest of the SDK: heights, ids, periods and app
// versions are numbers (the node's JSON has them as numbers); amounts
// (deposits, stakes, tallies) are bigint, from the node's decimal strings.
import { hexToU8a, isHex, u8aToHex } from '@polkadot/util';
import type { Call, TxResult } from './chain.js';
import { parseHash, toAccount } from './keys.js';
import { encode } from './types.js';

/** Module index of gov. */
export const GOV_MODULE = 8;
/** Method indices of gov (internal/state/gov). */
export const GOV_METHODS = {
  propose: 0, vote: 1, setCouncil: 2, setParams: 3, scheduleUpgrade: 4, cancelUpgrade: 5,
} as const;
/** The most bytes of a proposed call's arguments the chain accepts. */
export const MAX_PROPOSAL_ARGS = 16 << 10;
/** The most members a council has. */
export const MAX_COUNCIL_MEMBERS = 64;

/** Who decides a proposal. */
export type ProposalKind = 'council' | 'referendum';
/** Where a proposal is: voting, approved (awaiting enactment), or closed (rejected, enacted, failed). */
export type ProposalStatus = 'voting' | 'approved' | 'rejected' | 'enacted' | 'failed';

/** One vote: stake 1 for a council member, the locked stake in a referendum. */
export interface GovVote {
  voter: string;
  aye: boolean;
  stake: bigint;
}

/** A proposal as /gov lists it and /gov/proposal answers it (that one with its votes). */
export interface Proposal {
  id: number;
  kind: ProposalKind;
  proposer: string;
  /** The proposed call's "module.method" name. */
  call: string;
  module: number;
  method: number;
  /** The call's SCALE arguments, 0x hex. */
  args: string;
  status: ProposalStatus;
  created: number;
  votingEnds: number;
  /** The height at whose end an approved proposal is (or was) enacted; absent before approval. */
  enactAt?: number;
  /** Council: members; referendum: stake in base units. */
  ayes: bigint;
  nays: bigint;
  /** A referendum's deposit. */
  deposit?: bigint;
  /** The enacted call's result code (0 when enacted) and its name; resultName absent before enactment. */
  result: number;
  resultName?: string;
  /** The height at which it was rejected or enacted. */
  closed?: number;
  /** The votes in vote order (only from proposal()). */
  votes?: GovVote[];
}

/** The scheduled app-version upgrade: height is the last block of the old version. */
export interface ScheduledUpgrade {
  height: number;
  appVersion: number;
}

/** An upgrade done: block height was the last one of app version from. */
export interface PastUpgrade {
  height: number;
  from: number;
  appVersion: number;
}

/** Governance's state (/gov). Accounts are SS58 addresses. */
export interface GovInfo {
  council: string[];
  /** Council ayes that approve a council proposal. */
  threshold: number;
  /** Blocks from approval to enactment. */
  enactmentDelay: number;
  /** Blocks a proposal stays open for votes. */
  votingPeriod: number;
  referendumDeposit: bigint;
  minTurnout: bigint;
  /** The admin account; absent when the chain has none. */
  admin?: string;
  /** The registry's measurement allow-list (0x hashes). */
  measurements: string[];
  /** The app version the next block runs. */
  appVersion: number;
  upgrade?: ScheduledUpgrade;
  /** Oldest first. */
  pastUpgrades: PastUpgrade[];
  /** The id the next proposal gets. */
  nextId: number;
  /** Ids of the proposals voting or awaiting enactment. */
  open: number[];
  /** The latest proposals (at most 100), newest first, without votes. */
  proposals: Proposal[];
}

// ------------------------------------------------------------- decoding JSON
//
// The node's answer is checked field by field: a wrong type is an error
// naming the field, not a value that misbehaves later.

function fail(where: string, what: string): never {
  throw new Error(`gov answer: ${where}: ${what}`);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(where, `not a non-negative integer: ${JSON.stringify(v)}`);
  }
  return v;
}

function optNum(v: unknown, where: string): number | undefined {
  return v === undefined || v === null ? undefined : num(v, where);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') {
    fail(where, `not a string: ${JSON.stringify(v)}`);
  }
  return v;
}

function amount(v: unknown, where: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,40}$/.test(v)) {
    fail(where, `not a decimal amount: ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

function arr(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) {
    return [];
  }
  if (!Array.isArray(v)) {
    fail(where, 'not an array');
  }
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(where, 'not an object');
  }
  return v as Record<string, unknown>;
}

/** Checks and converts one proposal of the node's JSON. */
export function decodeProposal(json: unknown, where = 'proposal'): Proposal {
  const o = obj(json, where);
  const p: Proposal = {
    id: num(o.id, `${where}.id`),
    kind: str(o.kind, `${where}.kind`) as ProposalKind,
    proposer: str(o.proposer, `${where}.proposer`),
    call: str(o.call, `${where}.call`),
    module: num(o.module, `${where}.module`),
    method: num(o.method, `${where}.method`),
    args: str(o.args, `${where}.args`),
    status: str(o.status, `${where}.status`) as ProposalStatus,
    created: num(o.created, `${where}.created`),
    votingEnds: num(o.votingEnds, `${where}.votingEnds`),
    ayes: amount(o.ayes, `${where}.ayes`),
    nays: amount(o.nays, `${where}.nays`),
    result: num(o.result ?? 0, `${where}.result`),
  };
  if (!isHex(p.args)) {
    fail(`${where}.args`, 'not 0x hex');
  }
  const enactAt = optNum(o.enactAt, `${where}.enactAt`);
  if (enactAt !== undefined) {
    p.enactAt = enactAt;
  }
  if (o.deposit !== undefined) {
    p.deposit = amount(o.deposit, `${where}.deposit`);
  }
  if (o.resultName !== undefined) {
    p.resultName = str(o.resultName, `${where}.resultName`);
  }
  const closed = optNum(o.closed, `${where}.closed`);
  if (closed !== undefined) {
    p.closed = closed;
  }
  if (o.votes !== undefined) {
    p.votes = arr(o.votes, `${where}.votes`).map((v, i) => {
      const w = `${where}.votes[${i}]`;
      const vo = obj(v, w);
      if (typeof vo.aye !== 'boolean') {
        fail(`${w}.aye`, 'not a boolean');
      }
      return { voter: str(vo.voter, `${w}.voter`), aye: vo.aye, stake: amount(vo.stake, `${w}.stake`) };
    });
  }
  return p;
}

/** Checks and converts the node's /gov answer. */
export function decodeGovInfo(json: unknown): GovInfo {
  const o = obj(json, 'gov');
  const g: GovInfo = {
    council: arr(o.council, 'council').map((m, i) => str(m, `council[${i}]`)),
    threshold: num(o.threshold, 'threshold'),
    enactmentDelay: num(o.enactmentDelay, 'enactmentDelay'),
    votingPeriod: num(o.votingPeriod, 'votingPeriod'),
    referendumDeposit: amount(o.referendumDeposit, 'referendumDeposit'),
    minTurnout: amount(o.minTurnout, 'minTurnout'),
    measurements: arr(o.measurements, 'measurements').map((m, i) => str(m, `measurements[${i}]`)),
    appVersion: num(o.appVersion, 'appVersion'),
    pastUpgrades: arr(o.pastUpgrades, 'pastUpgrades').map((u, i) => {
      const uo = obj(u, `pastUpgrades[${i}]`);
      return {
        height: num(uo.height, `pastUpgrades[${i}].height`), from: num(uo.from, `pastUpgrades[${i}].from`),
        appVersion: num(uo.appVersion, `pastUpgrades[${i}].appVersion`),
      };
    }),
    nextId: num(o.nextId, 'nextId'),
    open: arr(o.open, 'open').map((id, i) => num(id, `open[${i}]`)),
    proposals: arr(o.proposals, 'proposals').map((p, i) => decodeProposal(p, `proposals[${i}]`)),
  };
  if (o.admin !== undefined && o.admin !== '') {
    g.admin = str(o.admin, 'admin');
  }
  if (o.upgrade !== undefined && o.upgrade !== null) {
    const u = obj(o.upgrade, 'upgrade');
    g.upgrade = { height: num(u.height, 'upgrade.height'), appVersion: num(u.appVersion, 'upgrade.appVersion') };
  }
  return g;
}

/** A proposal id as /gov/proposal takes it: 8 bytes, big-endian. */
export function proposalKey(id: number | bigint): Uint8Array {
  const n = BigInt(id);
  if (n < 0n || n >= 1n << 64n) {
    throw new Error(`cella: proposal id ${id} is not a u64`);
  }
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, false);
  return b;
}

/** The id of the proposal a committed gov.propose made (its gov_proposed event); undefined when it made none. */
export function proposalIdOf(r: TxResult): number | undefined {
  const e = r.events.find((x) => x.type === 'gov_proposed');
  const id = e?.attributes.id;
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined;
}

// ------------------------------------------------------------ call builders

/** gov.propose(call, referendum): a council member's proposal, or with referendum any account's (locking the deposit). */
export function proposeCall(inner: Call, referendum = false): Call {
  if (inner.args.length > MAX_PROPOSAL_ARGS) {
    throw new Error(`cella: a proposed call's arguments are ${inner.args.length} bytes, limit ${MAX_PROPOSAL_ARGS}`);
  }
  return {
    module: GOV_MODULE, method: GOV_METHODS.propose,
    args: encode('CellaProposeArgs', { call: { module: inner.module, method: inner.method, args: u8aToHex(inner.args) }, referendum }),
  };
}

/** gov.vote(id, aye, stake): stake 0 for a council member, the stake to lock in a referendum. */
export function voteCall(id: number | bigint, aye: boolean, stake = 0n): Call {
  return { module: GOV_MODULE, method: GOV_METHODS.vote, args: encode('CellaVoteArgs', { id: BigInt(id), aye, stake }) };
}

/** gov.set_council(members, threshold) (privileged). */
export function setCouncilCall(members: (Uint8Array | string)[], threshold: number): Call {
  if (members.length > MAX_COUNCIL_MEMBERS) {
    throw new Error(`cella: ${members.length} council members, limit ${MAX_COUNCIL_MEMBERS}`);
  }
  return {
    module: GOV_MODULE, method: GOV_METHODS.setCouncil,
    args: encode('CellaSetCouncilArgs', { members: members.map((m) => toAccount(m)), threshold }),
  };
}

/** gov.schedule_upgrade(height, appVersion) (privileged): height is the last block of the old version. */
export function scheduleUpgradeCall(height: number | bigint, appVersion: number | bigint): Call {
  return {
    module: GOV_MODULE, method: GOV_METHODS.scheduleUpgrade,
    args: encode('CellaUpgradeArgs', { height: BigInt(height), appVersion: BigInt(appVersion) }),
  };
}

/** gov.cancel_upgrade() (privileged, app version 2 on). */
export function cancelUpgradeCall(): Call {
  return { module: GOV_MODULE, method: GOV_METHODS.cancelUpgrade, args: new Uint8Array() };
}

/** registry.allow_measurement(hash) (privileged). */
export function allowMeasurementCall(hash: Uint8Array | string): Call {
  return { module: 4, method: 1, args: parseHash(hash).slice() };
}

/** registry.disallow_measurement(hash) (privileged). */
export function disallowMeasurementCall(hash: Uint8Array | string): Call {
  return { module: 4, method: 2, args: parseHash(hash).slice() };
}

/** gatekeeper.add(worker) (privileged). */
export function addGatekeeperCall(worker: Uint8Array | string): Call {
  return { module: 6, method: 0, args: toAccount(worker).slice() };
}

/** gatekeeper.remove(worker) (privileged). */
export function removeGatekeeperCall(worker: Uint8Array | string): Call {
  return { module: 6, method: 1, args: toAccount(worker).slice() };
}

/** admin.remove() (privileged): the chain has no admin account afterwards. */
export function removeAdminCall(): Call {
  return { module: 5, method: 1, args: new Uint8Array() };
}

/** The arguments of a proposal's call as bytes. */
export function proposalArgs(p: Pick<Proposal, 'args'>): Uint8Array {
  return hexToU8a(p.args);
}

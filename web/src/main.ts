// Cella's web app: an explorer of the chain (blocks, transactions,
// accounts, workers, gatekeepers, clusters, contracts, governance) and a contract UI
// (contract.ts). It talks to the node's CometBFT RPC and to a worker's
// public API through the serving process (see /api/config), with the
// TypeScript SDK (sdk-ts) doing every read, signature and encryption.
import { Client, codeName, ss58, QueryFailed } from '@cella-network/sdk';
import type { ChainInfo, GovInfo, Proposal } from '@cella-network/sdk';
import { hexToU8a, isHex } from '@polkadot/util';
import { h, append, link, kv, table, mono } from './dom.js';
import { decodeCallArgs, decodeTx, fromBase64, formatAmount } from './txdecode.js';
import { renderContractUI } from './contract.js';

/** What the serving process tells the app (internal/web's /api/config). */
export interface AppConfig {
  /** Path or URL of the node's RPC (proxied: "/rpc"). */
  rpc: string;
  /** Path or URL of a worker's public API (proxied: "/worker"); empty when none. */
  worker: string;
  /** Call names by "module.method" indices. */
  calls: Record<string, string>;
  /** The cella binary's version. */
  version: string;
}

/** The app's shared state. */
export interface App {
  cfg: AppConfig;
  client: Client;
  chain?: ChainInfo;
}

const viewRoot = document.getElementById('view') as HTMLElement;
// view is the current page's container: each route renders into a fresh
// one, so a slow render of a page the user already left (its fetches
// answering late) writes into a detached element, never over the new page.
let view: HTMLElement = viewRoot;
const statusEl = document.getElementById('chain-status') as HTMLElement;

function abs(u: string): string {
  return u.includes('://') ? u : new URL(u, location.href).toString().replace(/\/+$/, '');
}

async function loadConfig(): Promise<AppConfig> {
  const res = await fetch('api/config', { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    throw new Error(`api/config: HTTP ${res.status}`);
  }
  const c = await res.json();
  return { rpc: String(c.rpc ?? 'rpc'), worker: String(c.worker ?? ''), calls: c.calls ?? {}, version: String(c.version ?? '') };
}

function showError(where: HTMLElement, e: unknown): void {
  append(where, h('p', { class: 'bad error' }, (e as Error)?.message ?? String(e)));
}

// ------------------------------------------------------------------- blocks

let routeGen = 0;

async function renderHome(app: App, gen: number): Promise<void> {
  const heightEl = h('span', { id: 'latest-height' }, '…');
  const tbody = h('tbody', { id: 'blocks' });
  view.replaceChildren(
    h('h1', {}, 'Latest blocks'),
    kv([
      ['chain', app.chain ? `${app.chain.chainId}${app.chain.dev ? ' (dev chain)' : ''}` : '…'],
      ['genesis hash', mono(app.chain?.genesisHash ?? '')],
      ['height', heightEl],
    ]),
    h('table', {}, h('thead', {}, h('tr', {}, ...['height', 'time', 'txs', 'proposer', 'hash'].map((c) => h('th', {}, c)))), tbody),
  );
  let last = 0;
  while (gen === routeGen) {
    try {
      const st = await app.client.status();
      if (st.height !== last) {
        const min = Math.max(1, last ? last + 1 : st.height - 19, st.height - 19);
        const r = await app.client.rpc('blockchain', { minHeight: String(min), maxHeight: String(st.height) });
        if (gen !== routeGen) {
          return;
        }
        const metas: any[] = (r.block_metas ?? []).slice().sort((a: any, b: any) => Number(a.header.height) - Number(b.header.height));
        for (const m of metas) {
          const ht = Number(m.header.height);
          const tr = h('tr', { class: last ? 'new' : '', 'data-height': String(ht) },
            h('td', {}, link(`/block/${ht}`, ht)), h('td', {}, new Date(m.header.time).toLocaleTimeString()),
            h('td', {}, m.num_txs), h('td', {}, mono(String(m.header.proposer_address), 6)), h('td', {}, mono(String(m.block_id.hash), 8)));
          tbody.prepend(tr);
        }
        while (tbody.children.length > 20) {
          tbody.lastElementChild?.remove();
        }
        last = st.height;
        heightEl.textContent = String(st.height);
      }
    } catch (e) {
      heightEl.textContent = `unreachable: ${(e as Error).message}`;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The most transactions a block page decodes and shows. */
const MAX_TXS_SHOWN = 500;

async function renderBlock(app: App, height: number): Promise<void> {
  if (!Number.isSafeInteger(height) || height < 1) {
    throw new Error('a block height is a positive integer');
  }
  const [b, res] = await Promise.all([
    app.client.rpc('block', { height: String(height) }),
    app.client.rpc('block_results', { height: String(height) }).catch(() => ({ txs_results: [] })),
  ]);
  const hd = b.block.header;
  const prefix = app.chain?.ss58Prefix ?? 42;
  const txs: string[] = b.block.data.txs ?? [];
  const results: any[] = res.txs_results ?? [];
  const rows = txs.slice(0, MAX_TXS_SHOWN).map((t, i) => {
    const d = decodeTx(fromBase64(t), app.cfg.calls, prefix);
    const r = results[i] ?? {};
    const code = Number(r.code ?? 0);
    const args = d.args ? h('div', {}, ...Object.entries(d.args).map(([k, v]) => h('div', {}, h('span', { class: 'muted' }, k + ': '), mono(v, 40)))) : null;
    const events = (r.events ?? []).map((e: any) =>
      h('div', {}, h('b', {}, e.type), ' ', ...(e.attributes ?? []).map((a: any) => h('span', { class: 'mono' }, ` ${a.key}=${a.value}`))));
    return [
      h('div', {}, String(i), h('div', { class: 'tx-hash' }, mono(d.hash, 6))),
      d.error ? h('span', { class: 'bad' }, `undecodable: ${d.error}`) : h('div', {}, h('b', { class: 'call' }, d.call), args),
      d.signer ? h('div', {}, link(`/account/${d.signer}`, mono(d.signer, 8)), h('div', { class: 'muted' }, `nonce ${d.nonce}${d.wrapped ? ', wallet-signed' : ''}`)) : '',
      h('div', {}, h('span', { class: code === 0 ? 'ok result' : 'bad result' }, `${codeName(code)} (${code})`), r.log ? h('div', { class: 'muted' }, r.log) : null),
      h('div', {}, ...events),
    ];
  });
  view.replaceChildren(
    h('h1', {}, `Block ${height}`),
    h('div', { class: 'row' }, height > 1 ? link(`/block/${height - 1}`, '← previous') : '', link(`/block/${height + 1}`, 'next →')),
    kv([
      ['time', hd.time], ['hash', mono(b.block_id.hash)], ['proposer', mono(hd.proposer_address)],
      ['app hash', mono(hd.app_hash)], ['transactions', String(txs.length)],
    ]),
    h('h2', {}, 'Transactions'),
    txs.length ? table(['#', 'call', 'signer', 'result', 'events'], rows, 'txs') : h('p', { class: 'muted' }, 'No transactions.'),
    txs.length > MAX_TXS_SHOWN ? h('p', { class: 'muted' }, `… and ${txs.length - MAX_TXS_SHOWN} more transactions, not shown.`) : '',
  );
}

// ----------------------------------------------------------------- accounts

/** Transactions per page of an account's history. */
const ACCOUNT_TXS_PER_PAGE = 50;

async function renderAccount(app: App, addr: string, query: URLSearchParams): Promise<void> {
  const page = Math.max(1, Math.min(1_000_000, Math.floor(Number(query.get('page') ?? '1')) || 1));
  const [a, deployed, hist] = await Promise.all([
    app.client.account(addr),
    app.client.contracts().catch(() => []),
    accountHistory(app, addr, page),
  ]);
  const mine = deployed.filter((c) => c.deployer === a.address);
  const dec = app.chain?.decimals ?? 12;
  view.replaceChildren(
    h('h1', {}, 'Account'),
    kv([['address', h('span', { id: 'account-address' }, mono(a.address))], ['free balance', h('span', { id: 'account-balance' }, `${formatAmount(a.free, dec)} (${a.free} base units)`)], ['nonce', h('span', { id: 'account-nonce' }, String(a.nonce))]]),
    h('h2', {}, `Contracts deployed (${mine.length})`),
    mine.length ? contractsTable(mine) : h('p', { class: 'muted' }, 'None.'),
    ...hist,
  );
}

/**
 * An account's transactions, newest first, a page of
 * ACCOUNT_TXS_PER_PAGE: every one the chain accepted from it (it paid its
 * fee), found through the node's tx index (tx.signer).
 */
async function accountHistory(app: App, addr: string, page: number): Promise<(HTMLElement | string)[]> {
  let p;
  try {
    p = await app.client.accountTxs(addr, page, ACCOUNT_TXS_PER_PAGE);
  } catch (e) {
    return [h('h2', {}, 'Transactions'), h('p', { class: 'muted', id: 'account-txs-error' }, `Not available from this node: ${(e as Error).message}`)];
  }
  const prefix = app.chain?.ss58Prefix ?? 42;
  const pages = Math.max(1, Math.ceil(p.total / ACCOUNT_TXS_PER_PAGE));
  const rows = p.txs.map((t) => {
    const d = t.tx ? decodeTx(t.tx, app.cfg.calls, prefix) : undefined;
    const args = d?.args ? h('div', {}, ...Object.entries(d.args).map(([k, v]) => h('div', {}, h('span', { class: 'muted' }, k + ': '), mono(v, 20)))) : null;
    return [
      link(`/block/${t.height}`, String(t.height)),
      h('span', { class: 'tx-hash' }, mono(t.hash, 6)),
      !d || d.error ? h('span', { class: 'bad' }, `undecodable${d?.error ? ': ' + d.error : ''}`) : h('div', {}, h('b', { class: 'call' }, d.call ?? ''), args),
      d?.nonce ?? '',
      h('div', {}, h('span', { class: t.code === 0 ? 'ok result' : 'bad result' }, `${codeName(t.code)} (${t.code})`), t.log ? h('div', { class: 'muted' }, t.log) : null),
    ];
  });
  const at = (n: number, text: string) => link(`/account/${encodeURIComponent(addr)}?page=${n}`, text);
  return [
    h('h2', {}, `Transactions (${p.total})`),
    rows.length ? table(['block', 'hash', 'call', 'nonce', 'result'], rows, 'account-txs') : h('p', { class: 'muted' }, page > 1 ? 'No transactions on this page.' : 'None.'),
    pages > 1 ? h('div', { class: 'row', id: 'account-txs-pages' },
      page > 1 ? at(page - 1, '← newer') : '', ` page ${page} of ${pages} `, page < pages ? at(page + 1, 'older →') : '') : '',
  ];
}

// ------------------------------------------------------------------ workers

async function renderWorkers(app: App): Promise<void> {
  const ws = await app.client.workerRecords();
  let live: any = null;
  if (app.cfg.worker) {
    live = await fetch(app.cfg.worker + '/cella.pruntime.v1.Public/Info', {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' }, signal: AbortSignal.timeout(10_000),
    }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  }
  const height = app.chain?.height ?? 0;
  view.replaceChildren(
    h('h1', {}, `Workers (${ws.length})`),
    table(['identity', 'TEE', 'measurement', 'pRuntime', 'registered', 'last seen', 'endpoint', 'operator'], ws.map((w: any) => {
      const isLive = live && String(live.identityPublicKey).toLowerCase() === String(w.identityPublicKey).toLowerCase();
      const seen = isLive
        ? h('span', { class: 'ok' }, `verified height ${live.height} (of ${height}) via this server's worker`)
        : h('span', { class: 'muted' }, `block ${w.recentBlockHeight} at registration`);
      return [mono(w.identityPublicKey, 8), w.teeKind, mono(w.measurementHash, 8), w.pruntimeVersion,
        `block ${w.registeredHeight}`, seen, w.endpoint ? mono(w.endpoint) : h('span', { class: 'muted' }, 'none'), mono(w.operator, 6)];
    }), 'workers'),
    live ? h('h2', {}, 'This server\'s worker') : '',
    live ? h('pre', {}, JSON.stringify(live, null, 2)) : '',
  );
}

async function renderGatekeepers(app: App): Promise<void> {
  const g = await app.client.gatekeepers();
  view.replaceChildren(
    h('h1', {}, 'Gatekeepers'),
    kv([['master public key', g.masterPubkey ? mono(g.masterPubkey) : h('span', { class: 'muted' }, 'not generated yet')], ['master key epoch', String(g.masterEpoch)]]),
    table(['identity', 'holds the master key'], (g.gatekeepers ?? []).map((k: any) => [mono(k.identity), k.active ? h('span', { class: 'ok' }, 'yes') : 'no']), 'gatekeepers'),
    h('h2', {}, 'Master key history'),
    table(['epoch', 'public key', 'height'], (g.masterHistory ?? []).map((e: any) => [e.epoch, mono(e.pubkey), e.height])),
  );
}

async function renderClusters(app: App): Promise<void> {
  const cs = await app.client.clusters();
  view.replaceChildren(
    h('h1', {}, `Clusters (${cs.length})`),
    table(['id', 'owner', 'permission', 'key epoch', 'public key', 'workers', 'keyed workers'], cs.map((c) => [
      link(`/cluster/${c.id}`, mono(c.id, 6)), mono(c.owner, 6), c.permission, c.epoch,
      c.pubkey ? mono(c.pubkey, 8) : h('span', { class: 'muted' }, 'not yet'), c.workers.length, (c.keyedWorkers ?? []).length,
    ]), 'clusters'),
  );
}

async function renderCluster(app: App, id: string): Promise<void> {
  const c: any = await app.client.cluster(id);
  const contracts = await app.client.contracts(id);
  view.replaceChildren(
    h('h1', {}, 'Cluster'),
    kv([
      ['id', mono(c.id)], ['owner', link(`/account/${c.owner}`, mono(c.owner))], ['permission', c.permission],
      ['key epoch', String(c.epoch)], ['public key', c.pubkey ? mono(c.pubkey) : 'not yet'],
      ['state root report interval', c.reportInterval ? `${c.reportInterval} blocks` : '—'],
      ['last agreed state root', c.lastAgreed ? h('span', { id: 'last-agreed' }, mono(c.lastAgreed.root), ` at block ${c.lastAgreed.height}`) : h('span', { class: 'muted' }, 'none yet')],
    ]),
    h('h2', {}, 'Workers'),
    table(['identity', 'holds the cluster key'], (c.workers ?? []).map((w: string) => [mono(w), (c.keyedWorkers ?? []).includes(w) ? 'yes' : 'no'])),
    h('h2', {}, 'State roots'),
    (c.roots ?? []).length ? table(['height', 'root', 'agreeing workers'], c.roots.map((r: any) => [r.height, mono(r.root), r.agreeing.length]), 'roots') : h('p', { class: 'muted' }, 'No reports yet.'),
    (c.alarms ?? []).length ? h('h2', { class: 'bad' }, 'Divergence alarms') : '',
    (c.alarms ?? []).length ? table(['height', 'worker', 'root', 'expected'], c.alarms.map((a: any) => [a.height, mono(a.worker, 8), mono(a.root, 8), mono(a.expectedRoot, 8)])) : '',
    h('h2', {}, `Contracts (${contracts.length})`),
    contractsTable(contracts),
  );
}

function contractsTable(cs: any[]): HTMLElement {
  return table(['id', 'state', 'deployer', 'code hash', 'cluster'], cs.map((c) => [
    link(`/contract/${c.id}`, mono(c.id, 8)), h('span', { class: c.state === 'instantiated' ? 'ok' : c.state === 'failed' ? 'bad' : '' }, c.state),
    mono(c.deployer, 6), mono(c.codeHash, 8), link(`/cluster/${c.cluster}`, mono(c.cluster, 6)),
  ]), 'contracts');
}

async function renderContracts(app: App): Promise<void> {
  const cs = await app.client.contracts();
  view.replaceChildren(h('h1', {}, `Contracts (${cs.length})`), contractsTable(cs));
}

async function renderContract(app: App, id: string): Promise<void> {
  const c = await app.client.contract(id);
  const code = await app.client.code(c.codeHash).catch(() => null);
  view.replaceChildren(
    h('h1', {}, 'Contract'),
    kv([
      ['id', mono(c.id)], ['state', c.state], ['deployer', link(`/account/${c.deployer}`, mono(c.deployer))],
      ['code hash', mono(c.codeHash)], ['code', code ? `${code.kind}, ${code.size} bytes` : '—'],
      ['cluster', link(`/cluster/${c.cluster}`, mono(c.cluster))], ['ECDH public key', c.pubkey ? mono(c.pubkey) : 'not published yet'],
    ]),
    h('p', {}, link(`/deploy?contract=${c.id}`, 'Call or query it in the contract UI')),
  );
}

// --------------------------------------------------------------- governance

/** How often the governance pages ask the node again, ms. */
const GOV_REFRESH_MS = 1500;

/** A stable text of a value with bigints, to tell whether an answer changed. */
function sameKey(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

/** The public keys of the dev accounts (//Alice … //Ferdie), whose secrets are public. */
const DEV_KEYS: [string, string][] = [
  ['//Alice', '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'],
  ['//Bob', '0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48'],
  ['//Charlie', '0x90b5ab205c6974c9ea841be688864633dc9ca8a357843eeacf2314649965fe22'],
  ['//Dave', '0x306721211d5404bd9da88e0204360a1a9ab8b87c66c1bc2fcdd37f3c2222cc20'],
  ['//Eve', '0xe659a7a1628cdd93febc04a4e0646ea20e9f5f0ce097d9a05290d4a9e054df4e'],
  ['//Ferdie', '0x1cbd2d43530a44705ad088af313e18f80b53ef16b36177cd4b77b846f2a5f07c'],
];

let devNames: Map<string, string> | undefined;

/** A dev account's name ("//Alice") on a dev chain; empty otherwise. */
function devName(app: App, addr: string): string {
  if (!app.chain?.dev) {
    return '';
  }
  devNames ??= new Map(DEV_KEYS.map(([n, k]) => [ss58(k, app.chain?.ss58Prefix ?? 42), n]));
  return devNames.get(addr) ?? '';
}

function accountLink(addr: string, keep = 8, app?: App): HTMLElement {
  const name = app ? devName(app, addr) : '';
  return h('span', {}, link(`/account/${addr}`, mono(addr, keep)), name ? h('span', { class: 'muted' }, ` ${name}`) : '');
}

function decodedCall(app: App, p: Proposal): HTMLElement {
  const args = isHex(p.args) ? decodeCallArgs(p.call, hexToU8a(p.args), app.cfg.calls, app.chain?.ss58Prefix ?? 42) : { args: p.args };
  return h('div', {}, h('b', { class: 'call' }, p.call),
    ...Object.entries(args).map(([k, v]) => h('div', {}, h('span', { class: 'muted' }, k + ': '), mono(v, 40))));
}

function tally(app: App, p: Proposal, g?: GovInfo): string {
  if (p.kind === 'referendum') {
    const dec = app.chain?.decimals ?? 12;
    return `aye ${formatAmount(p.ayes, dec)} / nay ${formatAmount(p.nays, dec)} CELL`;
  }
  return `${p.ayes} aye / ${p.nays} nay${g ? ` (threshold ${g.threshold})` : ''}`;
}

function statusCell(p: Proposal): HTMLElement {
  switch (p.status) {
    case 'voting':
      return h('span', { class: 'status' }, `voting until height ${p.votingEnds}`);
    case 'approved':
      return h('span', { class: 'ok status' }, `approved, enacted at the end of height ${p.enactAt ?? '?'}`);
    case 'enacted':
      return h('span', { class: 'ok status' }, `enacted at height ${p.closed ?? p.enactAt ?? '?'}: ${p.resultName ?? 'ok'}`);
    case 'failed':
      return h('span', { class: 'bad status' }, `failed at height ${p.closed ?? p.enactAt ?? '?'}: ${p.resultName ?? codeName(p.result)} (${p.result})`);
    case 'rejected':
      return h('span', { class: 'bad status' }, `rejected at height ${p.closed ?? '?'}`);
    default:
      return h('span', { class: 'status' }, String(p.status));
  }
}

function proposalsTable(app: App, ps: Proposal[], g: GovInfo, id: string): HTMLElement {
  return table(['#', 'kind', 'call', 'proposer', 'votes', 'status', 'created'], ps.map((p) => [
    link(`/gov/${p.id}`, `#${p.id}`), p.kind, decodedCall(app, p), accountLink(p.proposer, 6, app), tally(app, p, g), statusCell(p), `height ${p.created}`,
  ]), id);
}

/** The live-update loop of a governance page: load, render when the answer changed, again every GOV_REFRESH_MS. */
async function liveGov<T>(gen: number, load: () => Promise<T>, render: (v: T, live: HTMLElement) => boolean): Promise<void> {
  const live = h('p', { class: 'muted', id: 'gov-live' }, 'live');
  let v = await load(); // a first failure is the page's error
  let last = '';
  while (gen === routeGen) {
    const key = sameKey(v);
    if (key !== last) {
      last = key;
      if (!render(v, live)) {
        return; // nothing more will change
      }
    }
    await new Promise((r) => setTimeout(r, GOV_REFRESH_MS));
    if (gen !== routeGen) {
      return;
    }
    try {
      v = await load();
      live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      live.className = 'muted';
    } catch (e) {
      live.textContent = `not updated: ${(e as Error).message}`;
      live.className = 'bad';
    }
  }
}

async function renderGov(app: App, gen: number): Promise<void> {
  await liveGov(gen, () => app.client.gov(), (g, live) => {
    const dec = app.chain?.decimals ?? 12;
    const open = g.proposals.filter((p) => g.open.includes(p.id));
    const past = g.proposals.filter((p) => !g.open.includes(p.id));
    view.replaceChildren(
      h('h1', {}, 'Governance'),
      live,
      kv([
        ['app version', h('span', { id: 'gov-app-version' }, String(g.appVersion))],
        ['council', g.council.length
          ? h('div', { id: 'gov-council' }, ...g.council.map((m) => h('div', {}, accountLink(m, 0, app))))
          : h('span', { id: 'gov-council', class: 'muted' }, 'none: referendums only')],
        ['threshold', h('span', { id: 'gov-threshold' }, g.council.length ? `${g.threshold} of ${g.council.length} members` : '—')],
        ['enactment delay', `${g.enactmentDelay} blocks after approval`],
        ['voting period', `${g.votingPeriod} blocks`],
        ['referendum deposit', `${formatAmount(g.referendumDeposit, dec)} CELL`],
        ['minimum turnout', `${formatAmount(g.minTurnout, dec)} CELL`],
        ['admin', g.admin ? accountLink(g.admin, 0, app) : h('span', { class: 'muted' }, 'none')],
        ['allowed measurements', h('div', {}, ...g.measurements.map((m) => h('div', {}, mono(m))))],
        ['proposals so far', String(g.nextId)],
      ]),
      h('h2', {}, 'Upgrades'),
      kv([['scheduled', g.upgrade
        ? h('span', { id: 'gov-upgrade' }, `to app version ${g.upgrade.appVersion} at the end of height ${g.upgrade.height} (blocks from ${g.upgrade.height + 1} run it)`,
          app.chain ? h('span', { class: 'muted' }, ` · ${Math.max(0, g.upgrade.height - app.chain.height)} blocks from now`) : '')
        : h('span', { id: 'gov-upgrade', class: 'muted' }, 'none')]]),
      g.pastUpgrades.length
        ? table(['last block of the old version', 'from', 'to'], g.pastUpgrades.map((u) => [link(`/block/${u.height}`, u.height), `app version ${u.from}`, `app version ${u.appVersion}`]), 'past-upgrades')
        : h('p', { class: 'muted', id: 'past-upgrades' }, 'No upgrades yet.'),
      h('h2', {}, `Open proposals (${open.length})`),
      open.length ? proposalsTable(app, open, g, 'open-proposals') : h('p', { class: 'muted', id: 'open-proposals' }, 'None.'),
      h('h2', {}, `Past proposals (${past.length}${g.nextId > g.proposals.length ? `, the latest ${g.proposals.length} shown` : ''})`),
      past.length ? proposalsTable(app, past, g, 'past-proposals') : h('p', { class: 'muted', id: 'past-proposals' }, 'None.'),
    );
    return true;
  });
}

async function renderProposal(app: App, idText: string, gen: number): Promise<void> {
  if (!/^\d{1,19}$/.test(idText ?? '')) {
    throw new Error('a proposal id is a non-negative integer');
  }
  const id = BigInt(idText);
  const load = async () => {
    try {
      return { p: await app.client.proposal(id), g: await app.client.gov() };
    } catch (e) {
      throw e instanceof QueryFailed && e.notFound ? new Error(`no proposal ${id}`) : e;
    }
  };
  await liveGov(gen, load, ({ p, g }, live) => {
    const dec = app.chain?.decimals ?? 12;
    const closed = p.status === 'rejected' || p.status === 'enacted' || p.status === 'failed';
    const votes = p.votes ?? [];
    view.replaceChildren(
      h('h1', {}, `Proposal #${p.id}`),
      h('div', { class: 'row' }, link('/gov', '← governance'), p.id > 0 ? link(`/gov/${p.id - 1}`, '← previous') : '', p.id + 1 < g.nextId ? link(`/gov/${p.id + 1}`, 'next →') : ''),
      closed ? '' : live,
      kv([
        ['kind', p.kind === 'council' ? `council (threshold ${g.threshold} of ${g.council.length})` : 'referendum'],
        ['proposer', accountLink(p.proposer, 0, app)],
        ['call', h('div', { id: 'proposal-call' }, decodedCall(app, p))],
        ['call indices', `module ${p.module}, method ${p.method}`],
        ['arguments (SCALE)', mono(p.args, 40)],
        ['status', h('span', { id: 'proposal-status' }, statusCell(p))],
        ['ayes / nays', h('span', { id: 'proposal-tally' }, tally(app, p))],
        ['created', h('span', { id: 'proposal-created' }, link(`/block/${p.created}`, `height ${p.created}`))],
        ['voting ends', `height ${p.votingEnds}`],
        ['enactment', p.enactAt !== undefined ? `at the end of height ${p.enactAt}` : h('span', { class: 'muted' }, 'not approved')],
        ['deposit', p.deposit !== undefined ? `${formatAmount(p.deposit, dec)} CELL` : '—'],
        ['result', p.resultName !== undefined ? h('span', { class: p.result === 0 ? 'ok' : 'bad' }, `${p.resultName} (${p.result})`) : '—'],
        ['closed', p.closed !== undefined ? link(`/block/${p.closed}`, `height ${p.closed}`) : '—'],
      ]),
      h('h2', {}, `Votes (${votes.length})`),
      votes.length
        ? table(['voter', 'vote', 'stake'], votes.map((v) => [accountLink(v.voter, 0, app), h('span', { class: v.aye ? 'ok' : 'bad' }, v.aye ? 'aye' : 'nay'),
          p.kind === 'referendum' ? `${formatAmount(v.stake, dec)} CELL` : String(v.stake)]), 'votes')
        : h('p', { class: 'muted', id: 'votes' }, 'No votes.'),
    );
    return !closed;
  });
}

// ------------------------------------------------------------------ routing

async function route(app: App): Promise<void> {
  const gen = ++routeGen;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  view = h('div', {});
  viewRoot.replaceChildren(view);
  view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    switch (parts[0] ?? '') {
      case '':
        return await renderHome(app, gen);
      case 'block':
        return await renderBlock(app, Number(parts[1]));
      case 'account':
        return await renderAccount(app, parts[1], new URLSearchParams(query ?? ''));
      case 'workers':
        return await renderWorkers(app);
      case 'gatekeepers':
        return await renderGatekeepers(app);
      case 'clusters':
        return await renderClusters(app);
      case 'cluster':
        return await renderCluster(app, parts[1]);
      case 'contracts':
        return await renderContracts(app);
      case 'contract':
        return await renderContract(app, parts[1]);
      case 'gov':
        return parts[1] === undefined ? await renderGov(app, gen) : await renderProposal(app, parts[1], gen);
      case 'deploy':
        return renderContractUI(app, view, new URLSearchParams(query ?? ''));
      default:
        view.replaceChildren(h('p', { class: 'bad' }, `No page ${path}.`));
    }
  } catch (e) {
    if (gen !== routeGen) {
      return;
    }
    view.replaceChildren();
    showError(view, e instanceof QueryFailed && e.notFound ? new Error(`not found: ${e.path}`) : e);
  }
}

async function search(app: App, q: string): Promise<void> {
  q = q.trim();
  if (/^\d+$/.test(q)) {
    location.hash = `#/block/${q}`;
    return;
  }
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    try {
      await app.client.contract(q);
      location.hash = `#/contract/${q}`;
      return;
    } catch { /* not a contract */ }
    try {
      const r = await app.client.waitTx(q, 0);
      location.hash = `#/block/${r.height}`;
      return;
    } catch { /* not a transaction */ }
    location.hash = `#/account/${ss58(q, app.chain?.ss58Prefix ?? 42)}`;
    return;
  }
  location.hash = `#/account/${q}`;
}

async function main(): Promise<void> {
  let cfg: AppConfig;
  try {
    cfg = await loadConfig();
  } catch (e) {
    view.replaceChildren();
    showError(view, e);
    return;
  }
  if (cfg.worker) {
    cfg.worker = abs(cfg.worker);
  }
  const app: App = { cfg, client: new Client(abs(cfg.rpc)) };
  const refreshChain = async () => {
    try {
      app.chain = await app.client.chainInfo();
      statusEl.textContent = `${app.chain.chainId}${app.chain.dev ? ' (dev)' : ''} · height ${app.chain.height}`;
      statusEl.className = '';
    } catch (e) {
      statusEl.textContent = `node unreachable: ${(e as Error).message}`;
      statusEl.className = 'bad';
    }
  };
  await refreshChain();
  setInterval(refreshChain, 3000);
  document.getElementById('search')?.addEventListener('submit', (e) => {
    e.preventDefault();
    void search(app, (document.getElementById('search-input') as HTMLInputElement).value);
  });
  window.addEventListener('hashchange', () => void route(app));
  await route(app);
}

void main();

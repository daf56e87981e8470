// Cella's web app: an explorer of the chain (blocks, transactions,
// accounts, workers, gatekeepers, clusters, contracts) and a contract UI
// (contract.ts). It talks to the node's CometBFT RPC and to a worker's
// public API through the serving process (see /api/config), with the
// TypeScript SDK (sdk-ts) doing every read, signature and encryption.
import { Client, codeName, ss58, QueryFailed } from '@cella-network/sdk';
import type { ChainInfo } from '@cella-network/sdk';
import { h, append, link, kv, table, mono } from './dom.js';
import { decodeTx, fromBase64, formatAmount } from './txdecode.js';
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

async function renderAccount(app: App, addr: string): Promise<void> {
  const a = await app.client.account(addr);
  const dec = app.chain?.decimals ?? 12;
  const deployed = (await app.client.contracts().catch(() => [])).filter((c) => c.deployer === a.address);
  view.replaceChildren(
    h('h1', {}, 'Account'),
    kv([['address', h('span', { id: 'account-address' }, mono(a.address))], ['free balance', h('span', { id: 'account-balance' }, `${formatAmount(a.free, dec)} (${a.free} base units)`)], ['nonce', h('span', { id: 'account-nonce' }, String(a.nonce))]]),
    h('h2', {}, `Contracts deployed (${deployed.length})`),
    deployed.length ? contractsTable(deployed) : h('p', { class: 'muted' }, 'None.'),
  );
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
        return await renderAccount(app, parts[1]);
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

// The contract UI: open a .contract bundle (or .wasm + metadata .json),
// upload and instantiate it, call messages as encrypted commands and query
// them (signed, encrypted), with dev accounts on a dev chain or with a
// polkadot.js extension account. Every chain and worker operation is the
// SDK's (sdk-ts); this file only gathers inputs and shows results.
import {
  ContractMetadata, ready, signerFromUri, signerFromExtension, codeHash, certify, QueryFailed, QueryError, CLUSTER0, ss58,
} from '@cella-network/sdk';
import type { Signer, Worker, CommandOutcome, CertifiedKey } from '@cella-network/sdk';
import { web3Accounts, web3Enable, web3FromAddress } from '@polkadot/extension-dapp';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { h, append, kv } from './dom.js';
import type { App } from './main.js';

/** Dev accounts offered on dev chains only (their secrets are public). */
const DEV_ACCOUNTS = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];
/** The worker's answer to a log request with no lines for the asking account (pruntime.ErrNoLogs). */
const NO_LOGS = 'no logs of this contract for this account';
/** The largest file the UI reads (the chain takes code up to 2 MiB; a bundle adds metadata). */
const MAX_FILE = 8 << 20;

/** A contract's code and metadata as opened. */
interface Loaded {
  name: string;
  wasm?: Uint8Array;
  meta: ContractMetadata;
}

// Kept across route changes, so that leaving the page and coming back
// keeps the opened contract and the chosen account.
let loaded: Loaded | undefined;
let extensionAccounts: { address: string; name?: string }[] = [];
let lastAddress = '';
// One certified query key per account for the page's life, so that an
// extension asks its user once for queries, outcomes and logs, not each time.
const certified = new Map<string, Promise<CertifiedKey>>();

async function readFile(f: File): Promise<Uint8Array> {
  if (f.size > MAX_FILE) {
    throw new Error(`${f.name}: ${f.size} bytes, at most ${MAX_FILE}`);
  }
  return new Uint8Array(await f.arrayBuffer());
}

/** Reads the chosen files: one .contract bundle, or a .wasm and a .json. */
async function openFiles(files: FileList): Promise<Loaded> {
  let wasm: Uint8Array | undefined;
  let json: any;
  let name = '';
  for (const f of Array.from(files)) {
    const b = await readFile(f);
    if (f.name.endsWith('.wasm')) {
      wasm = b;
      continue;
    }
    json = JSON.parse(new TextDecoder().decode(b));
    name = json?.contract?.name ?? f.name;
  }
  if (!json) {
    throw new Error('open the contract\'s metadata too: a .contract bundle, or its .json with the .wasm');
  }
  const meta = new ContractMetadata(json);
  return { name, wasm: wasm ?? meta.wasm(), meta };
}

/** Reads an argument as typed: JSON when it parses (numbers, true, "text", [..]), else the text itself. */
function parseArg(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function argInputs(box: HTMLElement, args: { name: string; type: { displayName?: string } }[], prefix: string): void {
  box.replaceChildren(...args.map((a, i) => h('label', {}, `${a.name}: ${a.type.displayName ?? ''} `,
    h('input', { id: `${prefix}-arg-${i}`, 'data-arg': a.name, placeholder: a.name }))));
}

function argValues(box: HTMLElement): unknown[] {
  return Array.from(box.querySelectorAll('input')).map((i) => parseArg((i as HTMLInputElement).value));
}

/** An optional non-negative integer input (undefined when empty). */
function amount(el: HTMLInputElement, what: string): bigint | undefined {
  const v = el.value.trim();
  if (v === '') {
    return undefined;
  }
  if (!/^\d{1,39}$/.test(v)) {
    throw new Error(`${what}: want a non-negative integer, got ${JSON.stringify(v.slice(0, 40))}`);
  }
  return BigInt(v);
}

/** Renders a decoded value as JSON (bigints as text). */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);
}

/** Renders the contract UI into view. */
export function renderContractUI(app: App, view: HTMLElement, params: URLSearchParams): void {
  const dev = !!app.chain?.dev;
  const log = h('div', { id: 'log' });
  const say = (s: string, cls = '') => {
    append(log, h('div', { class: cls }, `${new Date().toLocaleTimeString()} ${s}`));
    log.scrollTop = log.scrollHeight;
  };
  const fail = (e: unknown) => say(`error: ${(e as Error)?.message ?? String(e)}`, 'bad');

  // -------- account
  const signerSel = h('select', { id: 'signer' }) as HTMLSelectElement;
  const fillSigners = () => {
    const keep = signerSel.value;
    signerSel.replaceChildren(
      ...(dev ? DEV_ACCOUNTS.map((n) => h('option', { value: `dev://${n}` }, `//${n} (dev)`)) : []),
      ...extensionAccounts.map((a) => h('option', { value: `ext:${a.address}` }, `${a.name ?? 'account'} ${a.address} (extension)`)),
    );
    if (keep) {
      signerSel.value = keep;
    }
  };
  fillSigners();
  const connectExt = async () => {
    try {
      const exts = await web3Enable('Cella');
      if (exts.length === 0) {
        throw new Error('no polkadot.js-compatible extension answered (install one and allow this site)');
      }
      extensionAccounts = (await web3Accounts({ accountType: ['sr25519'] })).map((a) => ({ address: a.address, name: a.meta.name }));
      say(`extension: ${extensionAccounts.length} sr25519 account(s)`);
      fillSigners();
    } catch (e) {
      fail(e);
    }
  };
  const signer = async (): Promise<Signer> => {
    await ready();
    const v = signerSel.value;
    if (v.startsWith('dev:')) {
      if (!dev) {
        throw new Error('dev accounts only sign on dev chains');
      }
      return signerFromUri(v.slice(4));
    }
    if (v.startsWith('ext:')) {
      const address = v.slice(4);
      const inj = await web3FromAddress(address);
      return signerFromExtension(address, inj.signer as any);
    }
    throw new Error('choose an account (connect the extension first on a non-dev chain)');
  };

  const querier = async (): Promise<CertifiedKey> => {
    const v = signerSel.value;
    let c = certified.get(v);
    if (!c) {
      c = signer().then((s) => certify(s));
      certified.set(v, c);
      c.catch(() => certified.delete(v));
    }
    return c;
  };

  // -------- code
  const fileIn = h('input', { id: 'code-files', type: 'file', multiple: true, accept: '.contract,.wasm,.json' }) as HTMLInputElement;
  const codeInfo = h('div', { id: 'code-info', class: 'muted' }, loaded ? '' : 'No contract opened.');
  const ctorSel = h('select', { id: 'ctor' }) as HTMLSelectElement;
  const ctorArgs = h('span', { id: 'ctor-args' });
  const saltIn = h('input', { id: 'salt', placeholder: 'salt (hex, optional)' }) as HTMLInputElement;
  const msgSel = h('select', { id: 'message' }) as HTMLSelectElement;
  const msgArgs = h('span', { id: 'msg-args' });
  const addrIn = h('input', { id: 'contract-addr', size: '70', placeholder: '0x… contract id', value: params.get('contract') ?? lastAddress }) as HTMLInputElement;
  const queryOut = h('pre', { id: 'query-result' }, '—');
  const outcomeOut = h('pre', { id: 'outcome' }, '—');

  const fillSpecs = () => {
    if (!loaded) {
      return;
    }
    const abi = loaded.meta.abi;
    codeInfo.replaceChildren(kv([
      ['contract', loaded.name],
      ['code', loaded.wasm ? `${loaded.wasm.length} bytes, hash ${u8aToHex(codeHash(loaded.wasm))}` : 'metadata only (enough to call an existing contract)'],
      ['constructors', abi.constructors.map((c) => c.identifier).join(', ')],
      ['messages', abi.messages.map((m) => `${m.identifier}${m.isMutating ? ' (command)' : ' (query)'}`).join(', ')],
    ]));
    codeInfo.className = '';
    ctorSel.replaceChildren(...abi.constructors.map((c) => h('option', { value: c.identifier }, c.identifier)));
    msgSel.replaceChildren(...abi.messages.map((m) => h('option', { value: m.identifier }, `${m.identifier}${m.isMutating ? ' (command)' : ''}`)));
    const onCtor = () => argInputs(ctorArgs, abi.constructors.find((c) => c.identifier === ctorSel.value)?.args ?? [], 'ctor');
    const onMsg = () => argInputs(msgArgs, abi.messages.find((m) => m.identifier === msgSel.value)?.args ?? [], 'msg');
    ctorSel.onchange = onCtor;
    msgSel.onchange = onMsg;
    onCtor();
    onMsg();
  };
  fileIn.addEventListener('change', async () => {
    try {
      if (!fileIn.files?.length) {
        return;
      }
      loaded = await openFiles(fileIn.files);
      say(`opened ${loaded.name}`);
      fillSpecs();
    } catch (e) {
      fail(e);
    }
  });

  let busy = false;
  const guard = (btn: HTMLElement, f: () => Promise<void>) => async () => {
    if (busy) {
      return;
    }
    busy = true;
    btn.setAttribute('disabled', '');
    try {
      await f();
    } catch (e) {
      fail(e);
    } finally {
      busy = false;
      btn.removeAttribute('disabled');
    }
  };
  let workerP: Promise<Worker> | undefined;
  const worker = async (): Promise<Worker> => {
    if (!app.cfg.worker) {
      throw new Error('this server proxies no worker: queries and outcomes need one (cella node --web-worker URL)');
    }
    workerP ??= app.client.worker(app.cfg.worker).catch((e) => {
      workerP = undefined;
      throw e;
    });
    return workerP;
  };

  const deployBtn = h('button', { id: 'deploy' }, 'Upload & instantiate');
  deployBtn.addEventListener('click', guard(deployBtn, async () => {
    if (!loaded?.wasm) {
      throw new Error('open the contract\'s code first (.contract bundle or .wasm)');
    }
    const s = await signer();
    const hash = u8aToHex(codeHash(loaded.wasm));
    let have = false;
    try {
      await app.client.code(hash);
      have = true;
    } catch (e) {
      if (!(e instanceof QueryFailed && e.notFound)) {
        throw e;
      }
    }
    if (have) {
      say(`code ${hash} is on chain already`);
    } else {
      say(`uploading ${loaded.wasm.length} bytes…`);
      const up = await app.client.upload(s, loaded.wasm, { cluster: CLUSTER0 });
      if (up.result?.code !== 0) {
        throw new Error(`upload failed: ${up.result?.result} ${up.result?.log ?? ''}`);
      }
      say(`uploaded in block ${up.result.height}`, 'ok');
    }
    const data = loaded.meta.encodeConstructor(ctorSel.value, argValues(ctorArgs));
    const salt = saltIn.value.trim() ? hexToU8a(saltIn.value.trim()) : crypto.getRandomValues(new Uint8Array(8));
    say(`instantiating with ${ctorSel.value} (salt ${u8aToHex(salt)})…`);
    const inst = await app.client.instantiate(s, hash, data, { salt });
    if (inst.result?.code !== 0) {
      throw new Error(`instantiate failed: ${inst.result?.result} ${inst.result?.log ?? ''}`);
    }
    say(`instantiation ordered in block ${inst.result.height}; contract ${inst.address}; waiting for the cluster…`);
    const rec = await app.client.waitContract(inst.address);
    if (rec.state !== 'instantiated') {
      // The deployer may ask the cluster why: the instantiation's outcome.
      let why = '';
      try {
        const w = await worker();
        await workerAt(w, inst.result.height);
        const o = await app.client.commandResult(await querier(), w, inst);
        outcomeOut.textContent = show(describeOutcome(o, loaded.meta, ctorSel.value, app.chain?.ss58Prefix ?? 42, true));
        why = `: ${o.refused || o.error || (o.reverted ? 'the constructor reverted' : 'see the outcome')}`;
      } catch (e) {
        why = ` (its outcome: ${(e as Error).message})`;
      }
      throw new Error(`contract ${inst.address} is ${rec.state}${why}`);
    }
    addrIn.value = inst.address;
    lastAddress = inst.address;
    say(`contract ${inst.address} instantiated`, 'ok');
  }));

  const queryBtn = h('button', { id: 'query' }, 'Query (signed, encrypted)');
  queryBtn.addEventListener('click', guard(queryBtn, async () => {
    if (!loaded) {
      throw new Error('open the contract\'s metadata first');
    }
    const s = await querier();
    const w = await worker();
    const name = msgSel.value;
    const data = loaded.meta.encodeMessage(name, argValues(msgArgs));
    queryOut.textContent = '…';
    const r = await app.client.query(s, w, addrIn.value.trim(), data, { value: amount(valueIn, 'value') });
    let value: unknown;
    try {
      value = loaded.meta.decodeReturn(name, r.output).toHuman();
    } catch (e) {
      value = `undecodable (${(e as Error).message}): ${u8aToHex(r.output)}`;
    }
    queryOut.textContent = show({ message: name, value, reverted: r.reverted, gasRequired: r.gasRequired, storageDeposit: r.storageDeposit, debug: r.debug || undefined });
    say(`query ${name}: ${show(value)}`);
  }));

  const callBtn = h('button', { id: 'call' }, 'Send command (encrypted)');
  const plainBox = h('input', { id: 'plain', type: 'checkbox' }) as HTMLInputElement;
  const valueIn = h('input', { id: 'value', placeholder: 'value (base units, payable messages)', size: '30' }) as HTMLInputElement;
  const gasIn = h('input', { id: 'gas-limit', placeholder: 'gas limit (default: the SDK\'s)', size: '26' }) as HTMLInputElement;
  callBtn.addEventListener('click', guard(callBtn, async () => {
    if (!loaded) {
      throw new Error('open the contract\'s metadata first');
    }
    const s = await signer();
    const name = msgSel.value;
    const data = loaded.meta.encodeMessage(name, argValues(msgArgs));
    const addr = addrIn.value.trim();
    outcomeOut.textContent = '…';
    say(`sending ${name} as ${plainBox.checked ? 'a plain' : 'an encrypted'} command…`);
    const sent = await app.client.call(s, addr, data, { plain: plainBox.checked, value: amount(valueIn, 'value'), gasLimit: amount(gasIn, 'gas limit') });
    if (sent.result?.code !== 0) {
      throw new Error(`command refused: ${sent.result?.result} ${sent.result?.log ?? ''}`);
    }
    say(`command ${sent.commandId} in block ${sent.result.height}; asking the worker for its outcome…`);
    const w = await worker();
    await workerAt(w, sent.result.height);
    const o = await app.client.commandResult(await querier(), w, sent);
    outcomeOut.textContent = show(describeOutcome(o, loaded.meta, name, app.chain?.ss58Prefix ?? 42));
    say(`outcome: ${o.success ? 'success' : o.refused || o.error || 'reverted'}`, o.success ? 'ok' : 'bad');
  }));

  const logsOut = h('pre', { id: 'logs' }, '—');
  const logsBtn = h('button', { id: 'logs-btn' }, 'Logs (deployer only)');
  logsBtn.addEventListener('click', guard(logsBtn, async () => {
    const s = await querier();
    logsOut.textContent = '…';
    let page;
    try {
      page = await app.client.contractLogs(s, await worker(), addrIn.value.trim());
    } catch (e) {
      if (e instanceof QueryError && e.kind === 'RuntimeError' && e.detail === NO_LOGS) {
        logsOut.textContent = show({ lines: [], note: 'no log lines for this account: none written yet, or you are not the deployer' });
        say('logs: none for this account');
        return;
      }
      throw e;
    }
    logsOut.textContent = show({
      lines: page.lines.map((l) => `#${l.seq} block ${l.block} ${l.level}${l.inQuery ? ' (query)' : ''}: ${l.message}`),
      next: page.next,
    });
    say(`logs: ${page.lines.length} line(s)`);
  }));

  const extBtn = h('button', { id: 'connect-extension' }, 'Connect extension');
  extBtn.addEventListener('click', () => void connectExt());

  view.replaceChildren(
    h('h1', {}, 'Contract UI'),
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('label', {}, 'Account'), signerSel, extBtn),
      dev ? h('p', { class: 'muted' }, 'Dev chain: //Alice … //Ferdie sign here; their secrets are public, so they are never offered on other chains.') : h('p', { class: 'muted' }, 'Sign with a polkadot.js extension account (sr25519).')),
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('label', {}, 'Contract files'), fileIn, h('span', { class: 'muted' }, '.contract bundle, or .wasm and .json')),
      codeInfo),
    h('div', { class: 'card' }, h('h2', {}, 'Deploy to cluster 0'),
      h('div', { class: 'row' }, h('label', {}, 'Constructor'), ctorSel, ctorArgs),
      h('div', { class: 'row' }, saltIn, deployBtn)),
    h('div', { class: 'card' }, h('h2', {}, 'Call'),
      h('div', { class: 'row' }, h('label', {}, 'Contract'), addrIn),
      h('div', { class: 'row' }, h('label', {}, 'Message'), msgSel, msgArgs),
      h('div', { class: 'row' }, valueIn, gasIn),
      h('div', { class: 'row' }, queryBtn, callBtn, h('label', {}, plainBox, ' plain (readable on chain)')),
      h('h2', {}, 'Query result'), queryOut,
      h('h2', {}, 'Command outcome'), outcomeOut,
      h('div', { class: 'row' }, logsBtn), logsOut),
    h('h2', {}, 'Log'), log,
  );
  fillSpecs();
}

/**
 * Waits until worker w has applied block height. The SDK's commandResult
 * asks for the outcome first and the worker's height after, so a block
 * applied between the two reads as "no outcome"; asked only once the
 * block is applied, the first answer is final.
 */
async function workerAt(w: Worker, height: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Number((await w.info()).height ?? 0) < height) {
    if (Date.now() > deadline) {
      throw new Error(`worker ${w.url} has not applied block ${height} after ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function describeOutcome(o: CommandOutcome, meta: ContractMetadata, name: string, prefix: number, constructor = false): unknown {
  let output: unknown = u8aToHex(o.output);
  if (o.output.length) {
    try {
      output = meta.decodeReturn(name, o.output, constructor).toHuman();
    } catch { /* left as hex */ }
  }
  return {
    command: o.commandId, block: o.height, success: o.success, refused: o.refused || undefined, error: o.error || undefined,
    reverted: o.reverted, gasUsed: o.gasUsed, output,
    events: o.events.map((e) => {
      try {
        const d = meta.decodeEvent(e.data, e.topics);
        return { contract: ss58(e.contract, prefix), event: d.event.identifier, args: Object.fromEntries(d.args.map((a, i) => [d.event.args[i]?.name ?? String(i), a.toHuman()])) };
      } catch (err) {
        return { contract: ss58(e.contract, prefix), undecoded: u8aToHex(e.data), why: (err as Error).message };
      }
    }),
  };
}



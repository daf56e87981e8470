// Drives Cella's web app in a real Chromium (Debian's, never a downloaded
// one) against a running `cella dev`: the explorer shows a new block, the
// contract UI deploys flipper, flips it with an encrypted command and the
// query's answer changes; the governance page shows the dev council and,
// with CELLA_GOV_ON_REQUEST=1, asks the Go test for a council proposal
// (allow-listing CELLA_GOV_MEASUREMENT, approved) by printing
// "[browser] gov: propose now" and reading "proposal ID" from stdin, which
// the open page must then show without a reload. Screenshots go to
// CELLA_WEB_ARTIFACTS.
//
//   CELLA_WEB_URL=http://127.0.0.1:26680/ node test/browser.mjs
//
// internal/cli's TestWebAppInBrowser starts `cella dev` and runs this.
import { chromium } from 'playwright-core';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.CELLA_WEB_URL ?? 'http://127.0.0.1:26680/';
const contracts = process.env.CELLA_TESTCONTRACTS ?? join(here, '..', '..', 'internal', 'contract', 'testcontracts');
const out = process.env.CELLA_WEB_ARTIFACTS ?? join(here, '..', 'test-results');
const executablePath = process.env.CELLA_CHROMIUM ?? '/usr/bin/chromium';
const govOnRequest = process.env.CELLA_GOV_ON_REQUEST === '1';
const govMeasurement = process.env.CELLA_GOV_MEASUREMENT ?? '';
mkdirSync(out, { recursive: true });

const step = (s) => console.log(`[browser] ${new Date().toISOString().slice(11, 19)} ${s}`);
const problems = [];
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
let page;
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(30_000);
  page.on('console', (m) => {
    if (m.type() === 'error') {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  // A stand-in for a polkadot.js extension holding //Bob: injectedWeb3 as
  // extensions inject it, whose signRaw signs <Bytes>data</Bytes> here in
  // Node, as the real extension does.
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const bob = keyring.addFromUri('//Bob');
  const alice = keyring.addFromUri('//Alice');
  const charlie = keyring.addFromUri('//Charlie');
  let extensionSignatures = 0;
  await page.exposeFunction('cellaTestSignRaw', (address, data) => {
    if (address !== bob.address) {
      throw new Error(`signRaw for ${address}`);
    }
    extensionSignatures++;
    return u8aToHex(bob.sign(u8aWrapBytes(hexToU8a(data))));
  });
  await page.addInitScript((address) => {
    window.injectedWeb3 = {
      'cella-test': {
        version: '0.0.1',
        enable: async () => ({
          accounts: { get: async () => [{ address, name: 'Bob (test extension)', type: 'sr25519' }] },
          signer: {
            signRaw: async ({ address: a, data, type }) => {
              if (type !== 'bytes') {
                throw new Error('only bytes');
              }
              return { id: 1, signature: await window.cellaTestSignRaw(a, data) };
            },
          },
        }),
      },
    };
  }, bob.address);

  // The explorer: a block appears after the first one seen.
  step(`open ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#latest-height')?.textContent ?? ''));
  const first = Number(await page.textContent('#latest-height'));
  step(`height ${first}; waiting for a new block`);
  await page.waitForSelector(`#blocks tr[data-height="${first + 1}"]`);
  await page.screenshot({ path: join(out, '1-explorer.png'), fullPage: true });

  // The registry as the explorer shows it.
  await page.goto(url + '#/workers');
  await page.waitForSelector('#workers tbody tr');
  const workers = await page.textContent('#workers');
  if (!workers.includes('dev')) {
    throw new Error(`workers page shows no dev TEE worker: ${workers}`);
  }
  await page.goto(url + '#/gatekeepers');
  await page.waitForSelector('#gatekeepers tbody tr');
  await page.goto(url + '#/clusters');
  await page.waitForSelector('#clusters tbody tr');
  await page.screenshot({ path: join(out, '2-clusters.png'), fullPage: true });

  // Governance: the dev council (//Alice, //Bob, //Charlie, threshold 2),
  // app version 1, and the Go test's proposal appearing on the open page,
  // decoded, enacted.
  step('governance');
  await page.click('nav a[href="#/gov"]');
  await page.waitForSelector('#gov-council div');
  const council = await page.textContent('#gov-council');
  for (const [name, k] of [['Alice', alice], ['Bob', bob], ['Charlie', charlie]]) {
    if (!council.includes(k.address) || !council.includes(`//${name}`)) {
      throw new Error(`the governance page's council lacks ${name}: ${council}`);
    }
  }
  if ((await page.textContent('#gov-app-version')) !== '1' || !(await page.textContent('#gov-threshold')).includes('2 of 3')) {
    throw new Error(`app version ${await page.textContent('#gov-app-version')}, threshold ${await page.textContent('#gov-threshold')}`);
  }
  if (govOnRequest) {
    // The Go test proposes and approves now; this page, already open, must show it.
    console.log('[browser] gov: propose now');
    const rl = createInterface({ input: process.stdin });
    const answer = (await rl[Symbol.asyncIterator]().next()).value ?? '';
    rl.close();
    const m = /^proposal (\d+)$/.exec(answer);
    if (!m) {
      throw new Error(`no proposal from the Go test: ${answer}`);
    }
    const govProposal = m[1];
    step(`proposal ${govProposal} made; waiting for the open page to show it enacted`);
    await page.waitForFunction((id) => /enacted at height \d+: ok/.test(
      document.querySelector(`a[href="#/gov/${id}"]`)?.closest('tr')?.textContent ?? ''), govProposal);
    const row = `tr:has(a[href="#/gov/${govProposal}"])`;
    const rowText = await page.textContent(row);
    if (!rowText.includes('registry.allow_measurement') || !rowText.includes(govMeasurement.slice(0, 20)) || !rowText.includes('council') ||
      !rowText.includes('2 aye / 0 nay')) {
      throw new Error(`proposal ${govProposal}'s row: ${rowText}`);
    }
    if (!(await page.textContent('main')).includes(govMeasurement)) {
      throw new Error('the allow-list does not show the enacted measurement');
    }
    await page.screenshot({ path: join(out, '2b-governance.png'), fullPage: true });
    await page.click(`${row} a[href="#/gov/${govProposal}"]`);
    await page.waitForFunction(() => /enacted at height \d+: ok/.test(document.querySelector('#proposal-status')?.textContent ?? ''));
    const votes = await page.textContent('#votes');
    if (!votes.includes(alice.address) || !votes.includes(bob.address) || (await page.textContent('#proposal-tally')) !== '2 aye / 0 nay') {
      throw new Error(`proposal ${govProposal}'s votes: ${votes}`);
    }
    await page.screenshot({ path: join(out, '2c-proposal.png'), fullPage: true });
    // The proposing transaction's block shows gov.propose with its inner call.
    await page.click('#proposal-created a');
    await page.waitForSelector('#txs');
    const ptx = await page.textContent('#txs');
    if (!ptx.includes('gov.propose') || !ptx.includes('registry.allow_measurement')) {
      throw new Error(`the proposal's block: ${ptx}`);
    }
  } else {
    await page.screenshot({ path: join(out, '2b-governance.png'), fullPage: true });
  }

  // The contract UI: deploy flipper from its .wasm and .json as //Alice.
  step('deploy flipper');
  await page.goto(url + '#/deploy');
  await page.selectOption('#signer', 'dev://Alice');
  await page.setInputFiles('#code-files', [join(contracts, 'flipper.wasm'), join(contracts, 'flipper.json')]);
  await page.waitForFunction(() => (document.querySelector('#code-info')?.textContent ?? '').includes('flip'));
  await page.selectOption('#ctor', 'new');
  await page.fill('#ctor-arg-0', 'false');
  await page.click('#deploy');
  await page.waitForFunction(() => /^0x[0-9a-f]{64}$/.test(document.querySelector('#contract-addr')?.value ?? '') ||
    /error:/.test(document.querySelector('#log')?.textContent ?? ''), null, { timeout: 120_000 });
  const addr = await page.inputValue('#contract-addr');
  if (!/^0x[0-9a-f]{64}$/.test(addr)) {
    throw new Error(`deploy failed: ${await page.textContent('#log')}`);
  }
  step(`flipper at ${addr}`);

  const query = async (want, message = 'get', args = []) => {
    await page.selectOption('#message', message);
    for (const [i, a] of args.entries()) {
      await page.fill(`#msg-arg-${i}`, a);
    }
    await page.evaluate(() => { document.querySelector('#query-result').textContent = ''; });
    await page.click('#query');
    await page.waitForFunction(() => {
      const t = document.querySelector('#query-result')?.textContent ?? '';
      return t.includes('"value"') || /error:/.test(document.querySelector('#log')?.textContent ?? '');
    }, null, { timeout: 60_000 });
    const t = await page.textContent('#query-result');
    const v = JSON.parse(t).value;
    const got = v?.Ok ?? v;
    if (String(got) !== String(want)) {
      throw new Error(`${message}() answered ${JSON.stringify(v)}, want ${want}; log: ${await page.textContent('#log')}`);
    }
    step(`${message}() = ${JSON.stringify(v)}`);
  };
  await query(false);
  await page.screenshot({ path: join(out, '3-deployed-query-false.png'), fullPage: true });

  const command = async (message, args = []) => {
    await page.selectOption('#message', message);
    for (const [i, a] of args.entries()) {
      await page.fill(`#msg-arg-${i}`, a);
    }
    await page.evaluate(() => { document.querySelector('#outcome').textContent = ''; });
    await page.click('#call');
    await page.waitForFunction(() => {
      const t = document.querySelector('#outcome')?.textContent ?? '';
      return t.includes('"success"') || /error:/.test(document.querySelector('#log')?.textContent ?? '');
    }, null, { timeout: 90_000 });
    const text = await page.textContent('#outcome');
    const o = text.includes('"success"') ? JSON.parse(text) : null;
    if (o?.success !== true) {
      throw new Error(`${message}'s outcome: ${text}; log: ${await page.textContent('#log')}`);
    }
    return o;
  };
  step('flip with an encrypted command');
  const outcome = await command('flip');
  await page.screenshot({ path: join(out, '4-flip-outcome.png'), fullPage: true });
  await query(true);
  await page.screenshot({ path: join(out, '5-query-true.png'), fullPage: true });

  // The command's block in the explorer: the call decoded, its result named.
  const block = Number(outcome.block);
  step(`block ${block} in the explorer`);
  await page.goto(url + `#/block/${block}`);
  await page.waitForSelector('#txs');
  const txs = await page.textContent('#txs');
  if (!txs.includes('phat.push_command') || !txs.includes('encrypted') || !txs.includes('ok (0)')) {
    throw new Error(`block ${block} does not show the encrypted command: ${txs}`);
  }
  await page.screenshot({ path: join(out, '6-command-block.png'), fullPage: true });
  // Search finds the transaction's block by its hash.
  const txHash = await page.getAttribute('#txs .tx-hash span', 'title');
  await page.goto(url + '#/');
  await page.fill('#search-input', txHash);
  await page.press('#search-input', 'Enter');
  await page.waitForFunction((b) => location.hash === `#/block/${b}`, block);
  await page.goto(url + '#/contracts');
  await page.waitForSelector('#contracts');
  if (!(await page.textContent('#contracts')).includes(addr.slice(0, 10))) {
    throw new Error('the contracts page does not list flipper');
  }
  await page.screenshot({ path: join(out, '7-contracts.png'), fullPage: true });

  // The extension signs: //Bob flips it back through signRaw.
  step('flip again, signed by the (test) extension');
  await page.goto(url + '#/deploy');
  await page.click('#connect-extension');
  await page.waitForSelector(`#signer option[value="ext:${bob.address}"]`, { state: 'attached' });
  await page.selectOption('#signer', `ext:${bob.address}`);
  await page.fill('#contract-addr', addr);
  const byExt = await command('flip');
  await query(false);
  if (extensionSignatures < 2) {
    throw new Error(`the extension signed ${extensionSignatures} times, want the transaction and the query`);
  }
  await page.goto(url + `#/block/${Number(byExt.block)}`);
  await page.waitForSelector('#txs');
  if (!(await page.textContent('#txs')).includes('wallet-signed')) {
    throw new Error('the explorer does not show the extension-signed command as wallet-signed');
  }
  await page.screenshot({ path: join(out, '8-extension-block.png'), fullPage: true });

  // A constructor that reverts: the UI says the contract failed and why.
  step('a failing instantiation (events.wasm refuses flipper\'s default() selector)');
  await page.goto(url + '#/deploy');
  await page.selectOption('#signer', 'dev://Alice');
  await page.setInputFiles('#code-files', [join(contracts, 'events.wasm'), join(contracts, 'flipper.json')]);
  await page.waitForFunction(() => (document.querySelector('#code-info')?.textContent ?? '').includes('default'));
  await page.selectOption('#ctor', 'default');
  await page.click('#deploy');
  await page.waitForFunction(() => /error:/.test(document.querySelector('#log')?.textContent ?? ''), null, { timeout: 120_000 });
  const failLog = await page.textContent('#log');
  if (!/is failed: the constructor reverted/.test(failLog)) {
    throw new Error(`a reverting constructor: ${failLog}`);
  }
  const failOutcome = JSON.parse(await page.textContent('#outcome'));
  if (failOutcome.reverted !== true || failOutcome.success !== false) {
    throw new Error(`the failed instantiation's outcome: ${JSON.stringify(failOutcome)}`);
  }
  await page.screenshot({ path: join(out, '8b-failed-instantiation.png'), fullPage: true });
  await page.evaluate(() => { document.querySelector('#log').replaceChildren(); });

  // Decoded events: an ERC-20 transfer from //Alice to //Bob.
  step('erc20 from a .contract bundle: deploy, transfer, decoded Transfer event');
  await page.goto(url + '#/deploy');
  await page.selectOption('#signer', 'dev://Alice');
  // As a .contract bundle: the metadata with the code in source.wasm.
  const bundle = JSON.parse(readFileSync(join(contracts, 'erc20.json'), 'utf8'));
  bundle.source = { ...bundle.source, wasm: '0x' + readFileSync(join(contracts, 'erc20.wasm')).toString('hex') };
  writeFileSync(join(out, 'erc20.contract'), JSON.stringify(bundle));
  await page.setInputFiles('#code-files', join(out, 'erc20.contract'));
  await page.waitForFunction(() => (document.querySelector('#code-info')?.textContent ?? '').includes('balance_of'));
  await page.selectOption('#ctor', 'new');
  await page.fill('#ctor-arg-0', '1000000');
  const before = await page.inputValue('#contract-addr');
  await page.click('#deploy');
  await page.waitForFunction((b) => {
    const v = document.querySelector('#contract-addr')?.value ?? '';
    return (v !== b && /^0x[0-9a-f]{64}$/.test(v)) || /error:/.test(document.querySelector('#log')?.textContent ?? '');
  }, before, { timeout: 120_000 });
  const tr = await command('transfer', [bob.address, '250']);
  const ev = tr.events?.[0];
  if (tr.events?.length !== 1 || ev.event !== 'Transfer' || !JSON.stringify(ev.args).includes('250')) {
    throw new Error(`transfer's events: ${JSON.stringify(tr.events)}`);
  }
  await query('250', 'balance_of', [bob.address]);
  await page.screenshot({ path: join(out, '9-erc20-events.png'), fullPage: true });

  // ink! 5 metadata: the event found by its signature topic; the deployer's logs.
  step('events (ink! 5): emit, decoded Emitted event, logs');
  await page.setInputFiles('#code-files', [join(contracts, 'events.wasm'), join(contracts, 'events.json')]);
  await page.waitForFunction(() => (document.querySelector('#code-info')?.textContent ?? '').includes('emit'));
  const before2 = await page.inputValue('#contract-addr');
  await page.click('#deploy');
  await page.waitForFunction((b) => {
    const v = document.querySelector('#contract-addr')?.value ?? '';
    return (v !== b && /^0x[0-9a-f]{64}$/.test(v)) || /error:/.test(document.querySelector('#log')?.textContent ?? '');
  }, before2, { timeout: 120_000 });
  const em = await command('emit', ['7']);
  if (em.events?.length !== 1 || !String(em.events[0].event).endsWith('Emitted') || String(em.events[0].args?.value) !== '7') {
    throw new Error(`emit's events: ${JSON.stringify(em.events)}`);
  }
  await page.click('#logs-btn');
  await page.waitForFunction(() => (document.querySelector('#logs')?.textContent ?? '').includes('"lines"') ||
    /error:/.test(document.querySelector('#log')?.textContent ?? ''), null, { timeout: 60_000 });
  const logsText = await page.textContent('#logs');
  if (!logsText.includes('"lines"')) {
    throw new Error(`logs: ${logsText}; log: ${await page.textContent('#log')}`);
  }
  const logs = JSON.parse(logsText);
  step(`logs: ${JSON.stringify(logs.lines)}`);
  await page.screenshot({ path: join(out, '10-events-logs.png'), fullPage: true });

  // The account and cluster pages.
  await page.goto(url + `#/account/${bob.address}`);
  await page.waitForSelector('#account-nonce');
  if (Number(await page.textContent('#account-nonce')) < 1) {
    throw new Error('Bob\'s nonce did not move after his command');
  }
  // His history lists the command he signed through the extension, in its block.
  await page.waitForSelector('#account-txs');
  const bobTxs = await page.textContent('#account-txs');
  if (!bobTxs.includes('phat.push_command') || !bobTxs.includes('ok (0)') ||
    !(await page.$(`#account-txs a[href="#/block/${Number(byExt.block)}"]`))) {
    throw new Error(`Bob's account page does not list his command in block ${byExt.block}: ${bobTxs}`);
  }
  // //Alice's lists her deploy (phat.instantiate) and her encrypted flip (phat.push_command), newest first.
  step('//Alice\'s transactions on her account page');
  await page.goto(url + `#/account/${alice.address}`);
  await page.waitForSelector('#account-txs');
  const aliceTxs = await page.textContent('#account-txs');
  if (!aliceTxs.includes('phat.instantiate') || !aliceTxs.includes('phat.push_command') ||
    !(await page.$(`#account-txs a[href="#/block/${block}"]`))) {
    throw new Error(`Alice's account page does not list her instantiate and flip (block ${block}): ${aliceTxs}`);
  }
  const heights = await page.$$eval('#account-txs tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)));
  if (heights.some((x, i) => i > 0 && heights[i - 1] < x)) {
    throw new Error(`Alice's transactions are not newest first: ${heights}`);
  }
  await page.screenshot({ path: join(out, '10b-account-history.png'), fullPage: true });
  await page.goto(url + '#/cluster/0x' + '00'.repeat(32));
  await page.waitForSelector('#last-agreed');
  await page.screenshot({ path: join(out, '11-cluster0.png'), fullPage: true });
  const csp = problems.filter((p) => /Content Security Policy|Refused to/.test(p));
  if (csp.length) {
    throw new Error(`CSP violations: ${csp.join('; ')}`);
  }
  step('all steps passed');
} catch (e) {
  if (page) {
    await page.screenshot({ path: join(out, 'failure.png'), fullPage: true }).catch(() => {});
  }
  console.error(`[browser] FAILED: ${e.message}`);
  for (const p of problems) {
    console.error(`[browser] ${p}`);
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}

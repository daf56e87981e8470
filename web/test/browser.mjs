// Drives Cella's web app in a real Chromium (Debian's, never a downloaded
// one) against a running `cella dev`: the explorer shows a new block, the
// contract UI deploys flipper, flips it with an encrypted command and the
// query's answer changes. Screenshots go to CELLA_WEB_ARTIFACTS.
//
//   CELLA_WEB_URL=http://127.0.0.1:26680/ node test/browser.mjs
//
// internal/cli's TestWebAppInBrowser starts `cella dev` and runs this.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.CELLA_WEB_URL ?? 'http://127.0.0.1:26680/';
const contracts = process.env.CELLA_TESTCONTRACTS ?? join(here, '..', '..', 'internal', 'contract', 'testcontracts');
const out = process.env.CELLA_WEB_ARTIFACTS ?? join(here, '..', 'test-results');
const executablePath = process.env.CELLA_CHROMIUM ?? '/usr/bin/chromium';
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

  const query = async (want) => {
    await page.selectOption('#message', 'get');
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
      throw new Error(`get() answered ${JSON.stringify(v)}, want ${want}; log: ${await page.textContent('#log')}`);
    }
    step(`get() = ${JSON.stringify(v)}`);
  };
  await query(false);
  await page.screenshot({ path: join(out, '3-deployed-query-false.png'), fullPage: true });

  step('flip with an encrypted command');
  await page.selectOption('#message', 'flip');
  await page.click('#call');
  await page.waitForFunction(() => {
    const t = document.querySelector('#outcome')?.textContent ?? '';
    return t.includes('"success"') || /error:/.test(document.querySelector('#log')?.textContent ?? '');
  }, null, { timeout: 90_000 });
  const outcome = JSON.parse(await page.textContent('#outcome'));
  if (outcome.success !== true) {
    throw new Error(`flip's outcome: ${JSON.stringify(outcome)}`);
  }
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
  await page.goto(url + '#/contracts');
  await page.waitForSelector('#contracts');
  if (!(await page.textContent('#contracts')).includes(addr.slice(0, 10))) {
    throw new Error('the contracts page does not list flipper');
  }
  await page.screenshot({ path: join(out, '7-contracts.png'), fullPage: true });
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

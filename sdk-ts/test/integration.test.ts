// End to end against a real dev network: the test starts `go run ./cmd/cella
// dev` itself (fresh temporary home, free loopback ports, 200 ms blocks),
// waits for the worker to hold cluster 0's key, then uploads and
// instantiates flipper, sends an encrypted `flip` command, reads its
// outcome, queries `get` (Connect and Phala's pRPC paths), sends a plain
// command, a transfer, and reads contract logs. Skipped when `go` is not on
// PATH. CELLA_NODE_URL (and CELLA_WORKER_URL) run it against a network
// already running instead.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import {
  allowMeasurementCall, certify, Client, ContractMetadata, checkResult, CLUSTER0, NO_LOGS, pairFromUri, QueryError, ready, signerFromExtension, signerFromUri, setPollInterval, ss58,
} from '../src/index.js';
import type { Worker } from '../src/index.js';
import { repoFile, repoRoot } from './helpers.js';
import { readmeExample } from './readme-example.js';

const external = process.env.CELLA_NODE_URL;
const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
const skip = external || hasGo ? false : '`go` is not on PATH: cannot start `cella dev`';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? u8aToHex(x) : x));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dev network', { skip, timeout: 240_000 }, () => {
  let proc: ChildProcess | undefined;
  let home: string | undefined;
  let log = '';
  let client: Client;
  let worker: Worker;
  const alice = () => signerFromUri('//Alice');

  before(async () => {
    await ready();
    setPollInterval(100);
    let nodeURL = external;
    if (!nodeURL) {
      home = mkdtempSync(join(tmpdir(), 'cella-sdkts-'));
      const [rpc, p2p, pr] = [await freePort(), await freePort(), await freePort()];
      proc = spawn('go', ['run', './cmd/cella', 'dev', '--home', join(home, 'dev'), '--reset',
        '--rpc-addr', `tcp://127.0.0.1:${rpc}`, '--p2p-addr', `tcp://127.0.0.1:${p2p}`, '--metrics-addr', '',
        '--pruntime-addr', `127.0.0.1:${pr}`, '--block-time', '200ms'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const keep = (b: Buffer) => { log = (log + b.toString()).slice(-20_000); };
      proc.stdout!.on('data', keep);
      proc.stderr!.on('data', keep);
      nodeURL = `http://127.0.0.1:${rpc}`;
    }
    client = new Client(nodeURL);
    // The first block, then cluster 0's key held by a worker with an endpoint (go run compiles first).
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (proc && proc.exitCode !== null) {
        throw new Error(`cella dev exited (${proc.exitCode}):\n${log}`);
      }
      try {
        const ci = await client.chainInfo();
        const cl = await client.cluster(CLUSTER0);
        if (ci.height >= 1 && cl.pubkey && cl.keyedWorkers.length > 0) {
          worker = process.env.CELLA_WORKER_URL ? await client.worker(process.env.CELLA_WORKER_URL) : await client.clusterWorker(CLUSTER0);
          break;
        }
      } catch (e) {
        if (Date.now() > deadline) {
          throw new Error(`the dev network did not come up: ${(e as Error).message}\n${log}`);
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`cluster 0 has no keyed worker yet\n${log}`);
      }
      await sleep(250);
    }
  });

  after(async () => {
    if (proc && proc.exitCode === null && proc.pid) {
      process.kill(-proc.pid, 'SIGINT'); // the process group: go run and the cella it started
      for (let i = 0; i < 50 && proc.exitCode === null; i++) {
        await sleep(100);
      }
      if (proc.exitCode === null) {
        process.kill(-proc.pid, 'SIGKILL');
      }
    }
    if (home) {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('status, balance, transfer', async () => {
    const st = await client.status();
    assert.ok(st.height >= 1);
    const ci = await client.chainInfo();
    assert.equal(ci.chainId, 'cella-dev');
    assert.ok(ci.dev);
    const bob = signerFromUri('//Bob').publicKey;
    const before = await client.balance(bob);
    const sent = await client.transfer(alice(), bob, 1_000_000_000_000n);
    const r = checkResult(sent);
    assert.equal(r.result, 'ok');
    assert.ok(r.events.some((e) => e.type === 'transfer'));
    assert.equal(await client.balance(bob), before + 1_000_000_000_000n);
    // A stale nonce is refused by the node.
    await assert.rejects(client.transfer(alice(), bob, 1n, { nonce: sent.nonce }), /stale_nonce|nonce/);
  });

  test('governance: the dev council, app version, a council proposal approved and enacted', async () => {
    const g = await client.gov();
    const ss = (uri: string) => ss58(signerFromUri(uri).publicKey);
    assert.deepEqual([...g.council].sort(), [ss('//Alice'), ss('//Bob'), ss('//Charlie')].sort());
    assert.equal(g.threshold, 2);
    assert.equal(g.enactmentDelay, 2);
    assert.equal(g.votingPeriod, 20);
    assert.equal(g.appVersion, (await client.chainInfo()).appVersion);
    if (!external) { // a fresh dev chain
      assert.equal(g.appVersion, 1);
      assert.equal(g.upgrade, undefined);
      assert.deepEqual(g.pastUpgrades, []);
    }

    // //Alice proposes to allow-list a measurement, //Bob's aye approves it.
    const hash = u8aToHex(randomBytes(32));
    const p = await client.propose(alice(), allowMeasurementCall(hash));
    assert.equal(checkResult(p).result, 'ok');
    assert.equal(typeof p.id, 'number');
    const id = p.id!;
    assert.equal((await client.proposal(id)).status, 'voting');
    assert.ok((await client.gov()).open.includes(id));
    assert.equal(checkResult(await client.vote(signerFromUri('//Bob'), id, true)).result, 'ok');
    const approved = await client.proposal(id);
    assert.ok(['approved', 'enacted'].includes(approved.status), approved.status);
    assert.equal(approved.ayes, 2n);
    assert.deepEqual(approved.votes?.map((v) => [v.voter, v.aye, v.stake]), [[ss('//Alice'), true, 1n], [ss('//Bob'), true, 1n]]);
    // Enacted at the end of block enactAt.
    let done = approved;
    for (let i = 0; done.status === 'approved' && i < 300; i++) {
      await sleep(100);
      done = await client.proposal(id);
    }
    assert.equal(done.status, 'enacted', show(done));
    assert.equal(done.resultName, 'ok');
    assert.equal(done.closed, approved.enactAt);
    assert.ok((await client.gov()).measurements.includes(hash));
    // A proposal id that does not exist: notFound.
    await assert.rejects(client.proposal(id + 1000), (e: any) => e.notFound === true);
  });

  test('flipper: upload, instantiate, encrypted flip, outcome, query get', async () => {
    const md = new ContractMetadata(repoFile('internal/contract/testcontracts/flipper.json').toString());
    const code = repoFile('internal/contract/testcontracts/flipper.wasm');
    const signer = alice();
    const up = await client.upload(signer, new Uint8Array(code));
    const upRes = checkResult(up);
    assert.equal((await client.code(up.codeHash)).kind, 'ink');

    const salt = new TextEncoder().encode('sdk-ts-' + Date.now());
    await worker.waitHeight(upRes.height);
    const inst = await client.instantiate(signer, up.codeHash, md.encodeConstructor('new', [false]), { salt });
    checkResult(inst);
    assert.ok(inst.commandId, 'instantiate has a command id');
    const rec = await client.waitContract(inst.address);
    assert.equal(rec.state, 'instantiated');
    assert.ok(rec.pubkey, 'the contract key is published');
    // A constructor dry run (the worker keeps a cluster's state once it has a contract).
    const dry = await client.queryInstantiate(signer, worker, CLUSTER0, up.codeHash, md.encodeConstructor('new', [true]), new Uint8Array([1]));
    assert.equal(dry.reverted, false);
    assert.ok(dry.gasRequired > 0n);
    const instOutcome = await client.commandResult(signer, worker, inst);
    assert.equal(instOutcome.success, true, show(instOutcome));

    const q0 = await client.query(signer, worker, inst.address, md.encodeMessage('get'));
    assert.deepEqual(md.decodeReturn('get', q0.output).toJSON(), { ok: false });

    const flip = await client.call(signer, inst.address, md.encodeMessage('flip'));
    checkResult(flip);
    assert.ok(flip.commandId);
    const onChain = await client.waitOutcome(flip);
    assert.ok(onChain.gasUsed > 0n);
    const out = await client.commandResult(signer, worker, flip);
    assert.equal(out.success, true, show(out));
    assert.equal(u8aToHex(out.contract), inst.address);
    assert.deepEqual(md.decodeReturn('flip', out.output).toJSON(), { ok: null });
    // Only the sender reads an outcome.
    await assert.rejects(client.commandResult(signerFromUri('//Bob'), worker, flip), /no outcome/);

    const q1 = await client.query(signerFromUri('//Bob'), worker, inst.address, md.encodeMessage('get'));
    assert.deepEqual(md.decodeReturn('get', q1.output).toJSON(), { ok: true });
    assert.ok(q1.gasRequired > 0n);
    // The same query on Phala's pRPC path, as @phala/sdk posts it.
    const q2 = await client.query(signer, worker, inst.address, md.encodeMessage('get'), { prpc: true });
    assert.deepEqual(md.decodeReturn('get', q2.output).toJSON(), { ok: true });

    // A plain command flips back.
    const plain = await client.call(signer, inst.address, md.encodeMessage('flip'), { plain: true });
    assert.equal((await client.commandResult(signer, worker, plain)).success, true);
    const q3 = await client.query(signer, worker, inst.address, md.encodeMessage('get'));
    assert.deepEqual(md.decodeReturn('get', q3.output).toJSON(), { ok: false });

    // Alice's history, newest first: the plain flip on top, the instantiate below.
    const hist = await client.accountTxs(signer.publicKey, 1, 10);
    assert.ok(hist.total >= 4, `alice's total ${hist.total}`);
    assert.equal(hist.txs[0].hash, plain.hash);
    assert.equal(hist.txs[0].tx?.length ? true : false, true, 'raw tx included');
    const i = hist.txs.findIndex((t) => t.hash === inst.hash);
    assert.ok(i >= 2, `instantiate at ${i} in ${hist.txs.map((t) => t.hash).join(' ')}`);
    assert.ok(hist.txs.every((t, k) => k === 0 || hist.txs[k - 1].height >= t.height), 'newest first');

    // Logs: the deployer reads them (flipper logs nothing; a worker without
    // a log ring answers NO_LOGS to everyone); another account is refused.
    try {
      const page = await client.contractLogs(signer, worker, inst.address);
      assert.equal(page.lines.length, 0);
    } catch (e) {
      assert.ok(e instanceof QueryError && e.detail === NO_LOGS, String(e));
    }
    await assert.rejects(client.contractLogs(signerFromUri('//Bob'), worker, inst.address),
      (e: unknown) => e instanceof QueryError && e.detail === NO_LOGS);
  });

  test('erc20 with a wallet signer: wrapped transactions, events, Sr25519WrapBytes queries', async () => {
    const md = new ContractMetadata(repoFile('internal/contract/testcontracts/erc20.json').toString());
    const code = new Uint8Array(repoFile('internal/contract/testcontracts/erc20.wasm'));
    // //Charlie signs through a polkadot.js-extension-shaped signRaw (<Bytes>-wrapped).
    const charlie = pairFromUri('//Charlie');
    let rawSigns = 0;
    const wallet = signerFromExtension(charlie.address, {
      signRaw: async (r) => { rawSigns++; return { id: 1, signature: u8aToHex(charlie.sign(u8aWrapBytes(hexToU8a(r.data)))) }; },
    });
    const up = await client.upload(wallet, code);
    checkResult(up);
    const inst = await client.instantiate(wallet, up.codeHash, md.encodeConstructor('new', [1_000_000]), { salt: new TextEncoder().encode('erc20-' + Date.now()) });
    checkResult(inst);
    assert.equal((await client.waitContract(inst.address)).state, 'instantiated');
    const created = await client.commandResult(wallet, worker, inst);
    assert.equal(created.success, true, show(created));
    const bob = signerFromUri('//Bob').publicKey;
    const sent = await client.call(wallet, inst.address, md.encodeMessage('transfer', [bob, 250]));
    const out = await client.commandResult(wallet, worker, sent);
    assert.equal(out.success, true, show(out));
    assert.equal(out.events.length, 1);
    const ev = md.decodeEvent(out.events[0].data, out.events[0].topics);
    assert.equal(ev.event.identifier, 'Transfer');
    assert.equal(ev.args[2].toString(), '250');
    const q = await client.query(wallet, worker, inst.address, md.encodeMessage('balance_of', [bob]));
    assert.deepEqual(md.decodeReturn('balance_of', q.output).toJSON(), { ok: 250 });
    assert.ok(rawSigns >= 6, `signRaw used ${rawSigns} times`);
    // One certificate (one wallet prompt) for many queries.
    const before = rawSigns;
    const cert = await certify(wallet);
    for (const who of [bob, charlie.publicKey]) {
      const r = await client.query(cert, worker, inst.address, md.encodeMessage('balance_of', [who]));
      assert.deepEqual(md.decodeReturn('balance_of', r.output).toJSON(), { ok: who === bob ? 250 : 1_000_000 - 250 });
    }
    assert.equal(rawSigns, before + 1);
  });

  test("the README's five lines", { skip: external ? 'the example deploys flipper with an empty salt: fresh chains only' : false }, async () => {
    const json = JSON.parse(repoFile('internal/contract/testcontracts/flipper.json').toString());
    const wasm = new Uint8Array(repoFile('internal/contract/testcontracts/flipper.wasm'));
    assert.deepEqual(await readmeExample(client.url, json, wasm), [true, { ok: true }]);
  });
});

// The client's handling of node and worker answers, against an in-process
// HTTP server that plays both: errors, refusals, oversized answers, and a
// worker whose ECDH key is not its registration's. No real network.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { u8aToHex } from '@polkadot/util';
import { base64Encode } from '@polkadot/util-crypto';
import {
  Client, decodeCommandOutcome, decodeLogPage, decodeExecResult, encode, QueryFailed, ready, signerFromUri, TxRejected, transferCall,
} from '../src/index.js';

type Handler = (req: IncomingMessage, body: any, res: ServerResponse) => void;

describe('node and worker answers (mock server)', () => {
  let server: Server;
  let url = '';
  let handler: Handler = () => {};
  before(async () => {
    await ready();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let body: any = raw;
        try { body = JSON.parse(raw); } catch { /* not JSON */ }
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const rpcResult = (res: ServerResponse, id: number, result: unknown) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
  };
  const json = (v: unknown) => base64Encode(new TextEncoder().encode(JSON.stringify(v)));
  const genesis = '0x' + '11'.repeat(32);

  test('abci_query: not found, other codes, JSON answers', async () => {
    handler = (_req, b, res) => {
      assert.equal(b.method, 'abci_query');
      if (b.params.path === '/contract') {
        return rpcResult(res, b.id, { response: { code: 3, log: 'no contract' } });
      }
      if (b.params.path === '/account') {
        assert.equal(b.params.data, 'cc'.repeat(32), 'data is bare hex');
        return rpcResult(res, b.id, { response: { code: 0, value: json({ address: 'x', nonce: 4, free: '340282366920938463463374607431768211455' }) } });
      }
      return rpcResult(res, b.id, { response: { code: 2, log: 'bad input' } });
    };
    const c = new Client(url);
    await assert.rejects(c.contract('0x' + 'cc'.repeat(32)), (e: unknown) => e instanceof QueryFailed && e.notFound);
    await assert.rejects(c.code('0x' + 'cc'.repeat(32)), (e: unknown) => e instanceof QueryFailed && !e.notFound && e.code === 2);
    const a = await c.account('0x' + 'cc'.repeat(32));
    assert.equal(a.nonce, 4n);
    assert.equal(a.free, 2n ** 128n - 1n);
  });

  test('a refused transaction names its code', async () => {
    handler = (_req, b, res) => {
      if (b.method === 'abci_query' && b.params.path === '/chain') {
        return rpcResult(res, b.id, { response: { code: 0, value: json({ chainId: 'c', genesisHash: genesis, height: 5, params: {} }) } });
      }
      if (b.method === 'abci_query') {
        return rpcResult(res, b.id, { response: { code: 0, value: json({ address: 'x', nonce: 0, free: '0' }) } });
      }
      assert.equal(b.method, 'broadcast_tx_sync');
      return rpcResult(res, b.id, { code: 13, log: 'balance below the fee', hash: '' });
    };
    const c = new Client(url);
    await assert.rejects(c.send(signerFromUri('//Alice'), transferCall('0x' + '00'.repeat(32), 1n)),
      (e: unknown) => e instanceof TxRejected && e.code === 13 && /cannot_pay_fee/.test(e.message));
  });

  test('JSON-RPC errors and oversized answers', async () => {
    handler = (_req, b, res) => {
      if (b.method === 'tx') {
        res.statusCode = 502;
        res.end('<html>bad gateway</html>');
        return;
      }
      if (b.method === 'status') {
        res.setHeader('content-length', String(64 << 20));
        res.end('{');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: b.id, error: { code: -32603, message: 'Internal error', data: 'boom' } }));
    };
    const c = new Client(url);
    await assert.rejects(c.chainInfo(), /Internal error: boom/);
    await assert.rejects(c.status(), /limit/);
    await assert.rejects(c.waitTx('0x' + '00'.repeat(32)), /not a JSON-RPC answer \(HTTP 502\)/);
    await assert.rejects(new Client('http://127.0.0.1:1').chainInfo(), /cannot reach a node/);
  });

  test('a worker announcing another ECDH key than its registration is refused', async () => {
    const id = '0x' + 'ab'.repeat(32);
    const registered = u8aToHex(signerFromUri('//Bob').publicKey);
    let announced = u8aToHex(signerFromUri('//Eve').publicKey);
    handler = (req, b, res) => {
      if (req.url === '/cella.pruntime.v1.Public/Info') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ initialized: true, height: '9', identityPublicKey: id, ecdhPublicKey: announced }));
      }
      if (req.url === '/cella.pruntime.v1.Public/Query') {
        res.statusCode = 401;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ code: 'unauthenticated', message: 'bad signature' }));
      }
      assert.equal(b.params.path, '/workers');
      assert.equal(b.params.data, 'ab'.repeat(32));
      return rpcResult(res, b.id, { response: { code: 0, value: json([{ identityPublicKey: id, ecdhPublicKey: registered }]) } });
    };
    const c = new Client(url);
    await assert.rejects(c.worker(url), /announces ECDH key/);
    announced = registered;
    const w = await c.worker(url);
    assert.equal(u8aToHex(w.ecdh), announced);
    // A Connect error answer surfaces its code and message.
    await assert.rejects(c.query(signerFromUri('//Alice'), w, id, new Uint8Array([1, 2, 3, 4])), /unauthenticated: bad signature/);
  });

  test('truncated worker answers never decode', () => {
    // Every strict prefix of a valid encoding is refused.
    const exec = encode('PhatContractExecResult', {
      gasConsumed: { refTime: 1000, proofSize: 10 }, gasRequired: { refTime: 2000, proofSize: 20 }, storageDeposit: { Charge: 5 },
      debugMessage: 'dbg', result: { Ok: { flags: 1, data: '0x0001' } },
    });
    const page = encode('CellaLogPage', {
      entries: [{ seq: 1, block: 2, timeMs: 3, level: 3, inQuery: false, message: 'hi' }], next: 1,
    });
    const outcome = encode('CellaCommandOutcome', {
      height: 7, contract: new Uint8Array(32).fill(1), refused: '', flags: 0, output: '0x00', error: '', gasUsed: 9,
      events: [{ contract: new Uint8Array(32).fill(2), topics: [new Uint8Array(32).fill(3)], data: '0x0102' }],
    });
    const cases: Array<[(b: Uint8Array) => unknown, Uint8Array]> = [
      [(b) => decodeExecResult(b), exec],
      [(b) => decodeLogPage(b), page],
      [(b) => decodeCommandOutcome('0x', b), outcome],
    ];
    for (const [decode, valid] of cases) {
      decode(valid); // the full encoding decodes
      for (let n = 0; n < valid.length; n++) {
        assert.throws(() => decode(valid.subarray(0, n)), `prefix of ${n} bytes decoded`);
      }
    }
  });

  test('accountTxs: the tx.signer query, newest first, bounded pages', async () => {
    const who = '0x' + 'ab'.repeat(32);
    const seen: any[] = [];
    handler = (_req, b, res) => {
      seen.push(b);
      assert.equal(b.method, 'tx_search');
      rpcResult(res, b.id, {
        total_count: '3',
        txs: [
          { hash: 'AA'.repeat(32), height: '9', index: 0, tx: base64Encode(new Uint8Array([1, 2, 3])), tx_result: { code: 0, gas_used: '5', events: [{ type: 'tx', attributes: [{ key: 'signer', value: who, index: true }] }] } },
          { hash: 'BB'.repeat(32), height: '7', index: 1, tx: base64Encode(new Uint8Array([4])), tx_result: { code: 40, log: 'reverted' } },
        ],
      });
    };
    const c = new Client(url);
    const p = await c.accountTxs(who, 1, 2);
    assert.deepEqual(seen[0].params, { query: `tx.signer='${who}'`, prove: false, page: '1', per_page: '2', order_by: 'desc' });
    assert.equal(p.total, 3);
    assert.deepEqual(p.txs.map((t) => [t.hash, t.height, t.code]), [['0x' + 'aa'.repeat(32), 9, 0], ['0x' + 'bb'.repeat(32), 7, 40]]);
    assert.deepEqual(Array.from(p.txs[0].tx ?? []), [1, 2, 3]);
    assert.equal(p.txs[0].events[0].attributes.signer, who);
    for (const [page, per] of [[0, 10], [1, 0], [1, 101], [1.5, 10]]) {
      await assert.rejects(c.accountTxs(who, page, per), /account transactions/);
    }
    assert.equal(seen.length, 1, 'bad pages never reach the node');
  });
});

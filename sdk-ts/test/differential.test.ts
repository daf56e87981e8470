// Differential tests: the real @phala/sdk (the oracle's scripts, run as
// child processes) decrypts and verifies what this SDK produces with fresh
// randomness — queries signed by a keyring account (Sr25519) and by a
// wallet's signRaw (Sr25519WrapBytes), and encrypted commands. Runs when
// $CELLA_PHALA_ORACLE points at a copy of ../shared/oracle/phala after
// `npm ci` (.ci/run prepares one); skips otherwise.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import {
  encryptedCommandPayload, ephemeralPair, pairFromUri, ready, sealQuery, signerFromExtension, signerFromUri,
} from '../src/index.js';
import type { Signer } from '../src/index.js';

const dir = process.env.CELLA_PHALA_ORACLE;
const skip = dir && existsSync(join(dir, 'node_modules', '@phala', 'sdk'))
  ? false : 'CELLA_PHALA_ORACLE does not point at an installed copy of the @phala/sdk oracle';

function oracle(script: string, args: string[]): { status: number; out: any } {
  try {
    const out = execFileSync(process.execPath, [join(dir!, script), ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, out: JSON.parse(out) };
  } catch (e: any) {
    return { status: e.status ?? 1, out: e.stdout ? (() => { try { return JSON.parse(e.stdout); } catch { return e.stdout; } })() : undefined };
  }
}

describe('real @phala/sdk reads what we write', { skip }, () => {
  const workerSeed = hexToU8a('0x' + '22'.repeat(32));
  const contractSeed = hexToU8a('0x' + '33'.repeat(32));
  let signers: Record<string, Signer>;
  before(async () => {
    await ready();
    const alice = pairFromUri('//Alice');
    signers = {
      keyring: signerFromUri('//Alice'),
      wallet: signerFromExtension(alice.address, { signRaw: async (r) => ({ id: 1, signature: u8aToHex(alice.sign(u8aWrapBytes(hexToU8a(r.data)))) }) }),
    };
  });

  for (const kind of ['keyring', 'wallet']) {
    test(`query signed by a ${kind} account: decrypts and verifies`, async () => {
      const target = hexToU8a('0x' + 'cc'.repeat(32));
      const payload = hexToU8a('0x2f865bd9');
      const q = await sealQuery(signers[kind], ephemeralPair(workerSeed).publicKey, target,
        { InkMessage: { payload, deposit: 7n, transfer: 0n, estimating: true } });
      const req = u8aToHex(q.request);
      const d = oracle('decrypt.mjs', ['--seed', u8aToHex(workerSeed), '--kind', 'request', req]);
      assert.equal(d.status, 0, JSON.stringify(d.out));
      const iq = d.out.decoded.InkQuery;
      assert.equal(iq.head.id, u8aToHex(target));
      assert.equal(iq.head.nonce, u8aToHex(q.nonce));
      assert.equal(iq.data.inkMessage.payload, '0x2f865bd9');
      assert.equal(Number(iq.data.inkMessage.deposit), 7);
      assert.equal(iq.data.inkMessage.estimating, true);
      const v = oracle('verify.mjs', ['--request', req, '--block', '1']);
      assert.equal(v.status, 0, JSON.stringify(v.out));
      assert.equal(v.out.ok, true);
      assert.equal(v.out.chain[0], u8aToHex(signers[kind].publicKey));
      assert.equal(v.out.steps[1].signature_type, kind === 'wallet' ? 'Sr25519WrapBytes' : 'Sr25519');
      // A flipped signature bit fails the SDK's check.
      const bad = q.request.slice();
      bad[bad.length - 1] ^= 1;
      const vb = oracle('verify.mjs', ['--request', u8aToHex(bad), '--block', '1']);
      assert.ok(vb.status !== 0 || vb.out?.ok === false, 'tampered request verified');
    });
  }

  test('encrypted command decrypts to our InkCommand', async () => {
    const nonce = hexToU8a('0x' + '55'.repeat(32));
    const payload = await encryptedCommandPayload(ephemeralPair(contractSeed).publicKey,
      { nonce, message: hexToU8a('0x633aa551'), transfer: 3n, gasLimit: 1_000_000n, storageDepositLimit: 9n });
    const d = oracle('decrypt.mjs', ['--seed', u8aToHex(contractSeed), '--kind', 'command', u8aToHex(payload)]);
    assert.equal(d.status, 0, JSON.stringify(d.out));
    const c = d.out.decoded.InkCommand.inkMessage;
    assert.equal(c.nonce, u8aToHex(nonce));
    assert.equal(c.message, '0x633aa551');
    assert.equal(Number(c.transfer), 3);
    assert.equal(Number(c.gasLimit), 1_000_000);
    assert.equal(Number(c.storageDepositLimit), 9);
  });
});

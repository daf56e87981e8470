// Governance without a network: the node's recorded /gov and /gov/proposal
// answers (test/testdata/gov-answers.json, from a `cella dev` that ran
// proposals, votes and an upgrade to app version 2) decode into typed
// values, malformed answers are refused, and the call builders match the
// Go encoders byte for byte (cella-vectors.json's "gov" section).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import {
  addGatekeeperCall, allowMeasurementCall, cancelUpgradeCall, decodeGovInfo, decodeProposal, disallowMeasurementCall,
  proposalIdOf, proposalKey, proposeCall, ready, removeAdminCall, removeGatekeeperCall, scheduleUpgradeCall, setCouncilCall,
  ss58, voteCall, Chain, MAX_PROPOSAL_ARGS,
} from '../src/index.js';
import type { Call } from '../src/index.js';
import { testdata } from './helpers.js';

const A = testdata('gov-answers.json');

describe('governance answers (recorded)', () => {
  test('/gov decodes with amounts as bigint, heights and ids as numbers', () => {
    const g = decodeGovInfo(A.gov);
    assert.deepEqual(g.council, [
      '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
      '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY']);
    assert.equal(g.threshold, 2);
    assert.equal(g.enactmentDelay, 2);
    assert.equal(g.votingPeriod, 20);
    assert.equal(g.referendumDeposit, 10_000_000_000_000n);
    assert.equal(g.minTurnout, 1_000_000_000_000n);
    assert.equal(g.admin, '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
    assert.equal(g.appVersion, 2);
    assert.deepEqual(g.upgrade, { height: 5_000_000, appVersion: 3 });
    assert.deepEqual(g.pastUpgrades, [{ height: 81, from: 1, appVersion: 2 }]);
    assert.equal(g.nextId, 7);
    assert.deepEqual(g.open, [6]);
    assert.deepEqual(g.proposals.map((p) => [p.id, p.status]), [
      [6, 'voting'], [5, 'enacted'], [4, 'enacted'], [3, 'failed'], [2, 'rejected'], [1, 'rejected'], [0, 'enacted']]);
    const [open, enacted] = g.proposals;
    assert.equal(open.call, 'registry.allow_measurement');
    assert.equal(open.enactAt, undefined);
    assert.equal(open.ayes, 1n);
    assert.equal(open.resultName, undefined);
    assert.equal(open.votes, undefined);
    assert.equal(enacted.enactAt, 111);
    assert.equal(enacted.closed, 111);
    assert.equal(enacted.resultName, 'ok');
    // The recorded schedule_upgrade(5000000, 3) is what the builder encodes.
    assert.equal(enacted.args, u8aToHex(scheduleUpgradeCall(5_000_000, 3).args));
  });

  test('/gov/proposal: a failed referendum with a staked vote, a rejected council proposal', () => {
    const r = decodeProposal(A.proposal3);
    assert.equal(r.kind, 'referendum');
    assert.equal(r.status, 'failed');
    assert.equal(r.result, 114);
    assert.equal(r.resultName, 'measurement_not_allowed');
    assert.equal(r.deposit, 10_000_000_000_000n);
    assert.deepEqual(r.votes, [{ voter: '5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw', aye: true, stake: 5_000_000_000_000n }]);
    const c = decodeProposal(A.proposal1);
    assert.equal(c.call, 'admin.remove');
    assert.equal(c.args, '0x');
    assert.deepEqual(c.votes?.map((v) => v.aye), [true, false, false]);
    assert.equal(c.nays, 2n);
    assert.equal(c.closed, 45);
  });

  test('amounts beyond 2^53 stay exact', () => {
    const big = '340282366920938463463374607431768211455'; // u128 max
    const p = decodeProposal({ ...A.proposal3, ayes: big, votes: [{ voter: 'x', aye: false, stake: big }] });
    assert.equal(p.ayes, 2n ** 128n - 1n);
    assert.equal(p.votes?.[0].stake, 2n ** 128n - 1n);
  });

  const bad: [string, (g: any) => void, RegExp][] = [
    ['threshold as a string', (g) => { g.threshold = '2'; }, /threshold: not a non-negative integer/],
    ['negative height', (g) => { g.proposals[0].created = -1; }, /proposals\[0\]\.created/],
    ['unsafe integer', (g) => { g.nextId = 2 ** 53; }, /nextId/],
    ['amount as a number', (g) => { g.minTurnout = 1e12; }, /minTurnout: not a decimal amount/],
    ['amount with a sign', (g) => { g.proposals[1].ayes = '-1'; }, /proposals\[1\]\.ayes/],
    ['amount too long', (g) => { g.referendumDeposit = '9'.repeat(41); }, /referendumDeposit/],
    ['args not hex', (g) => { g.proposals[2].args = 'zz'; }, /proposals\[2\]\.args: not 0x hex/],
    ['council not an array', (g) => { g.council = 'Alice'; }, /council: not an array/],
    ['upgrade not an object', (g) => { g.upgrade = 5; }, /upgrade: not an object/],
    ['proposal a string', (g) => { g.proposals[0] = 'x'; }, /proposals\[0\]: not an object/],
  ];
  for (const [name, spoil, want] of bad) {
    test(`refuses ${name}`, () => {
      const g = structuredClone(A.gov);
      spoil(g);
      assert.throws(() => decodeGovInfo(g), want);
    });
  }

  test('refuses an answer that is not an object', () => {
    for (const v of [null, [], 'gov', 7]) {
      assert.throws(() => decodeGovInfo(v), /gov: not an object/);
    }
  });

  test('refuses a vote whose aye is not a boolean', () => {
    assert.throws(() => decodeProposal({ ...A.proposal1, votes: [{ voter: 'x', aye: 1, stake: '1' }] }), /votes\[0\]\.aye: not a boolean/);
  });

  test('a chain without a council or admin: empty lists, no admin, no upgrade', () => {
    const g = decodeGovInfo({ ...A.gov, council: [], threshold: 0, admin: undefined, upgrade: undefined, pastUpgrades: [], open: [], proposals: [] });
    assert.deepEqual(g.council, []);
    assert.equal(g.admin, undefined);
    assert.equal(g.upgrade, undefined);
    assert.deepEqual(g.proposals, []);
  });
});

describe('governance calls (Go vectors)', () => {
  const V = testdata('cella-vectors.json');
  const G = V.gov;
  before(ready);
  const same = (c: Call, want: any) => assert.deepEqual({ module: c.module, method: c.method, args: u8aToHex(c.args) }, want);

  test('privileged calls', () => {
    same(allowMeasurementCall(G.measurement), G.allowMeasurement);
    same(disallowMeasurementCall(hexToU8a(G.measurement)), G.disallowMeasurement);
    same(removeAdminCall(), G.removeAdmin);
    same(setCouncilCall([V.keys.alice, ss58(V.keys.bob), hexToU8a(G.charlie)], 2), G.setCouncil);
    same(scheduleUpgradeCall(5_000_000n, 3), G.scheduleUpgrade);
    same(cancelUpgradeCall(), G.cancelUpgrade);
    same(addGatekeeperCall(G.charlie), G.addGatekeeper);
    same(removeGatekeeperCall(ss58(G.charlie)), G.removeGatekeeper);
  });

  test('propose and vote', () => {
    same(proposeCall(allowMeasurementCall(G.measurement)), G.propose);
    same(proposeCall(removeAdminCall(), true), G.proposeReferendum);
    same(voteCall(3, true), G.voteCouncil);
    same(voteCall(2n ** 40n, false, 5_000_000_000_000n), G.voteStake);
  });

  test('limits and bad input', () => {
    assert.throws(() => proposeCall({ module: 4, method: 1, args: new Uint8Array(MAX_PROPOSAL_ARGS + 1) }), /limit 16384/);
    assert.throws(() => setCouncilCall(new Array(65).fill(V.keys.alice), 1), /65 council members/);
    assert.throws(() => allowMeasurementCall('0x1234'), /not a 32-byte hex value/);
    assert.throws(() => proposalKey(-1), /not a u64/);
    assert.throws(() => proposalKey(2n ** 64n), /not a u64/);
    assert.equal(u8aToHex(proposalKey(258)), '0x0000000000000102');
  });

  test('the proposal id from a committed propose', () => {
    const r = { hash: '0x', height: 5, code: 0, result: 'ok', log: '', weight: 0, events: [{ type: 'gov_proposed', attributes: { id: '12', kind: 'council' } }] };
    assert.equal(proposalIdOf(r), 12);
    assert.equal(proposalIdOf({ ...r, events: [] }), undefined);
  });
});

describe('governance reads (a stand-in node)', () => {
  test('gov() and proposal(id) send the paths and the big-endian id, and decode', async () => {
    const seen: { path: string; data: string }[] = [];
    const answers: Record<string, unknown> = { '/gov': A.gov, '/gov/proposal': A.proposal3 };
    const c = new Chain('http://node.invalid');
    c.rpc = (async (_method: string, params: any) => {
      seen.push({ path: params.path, data: params.data });
      const v = answers[params.path];
      return { response: { code: 0, value: Buffer.from(JSON.stringify(v)).toString('base64') } };
    }) as any;
    assert.equal((await c.gov()).appVersion, 2);
    assert.equal((await c.proposal(3)).deposit, 10_000_000_000_000n);
    assert.deepEqual(seen, [{ path: '/gov', data: '' }, { path: '/gov/proposal', data: '0000000000000003' }]);
  });
});

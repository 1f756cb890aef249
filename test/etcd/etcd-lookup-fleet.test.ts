// 1,000 nodes running etcd-lookup at once against the DigitalOcean simulator (TEST DOUBLE), all
// with the one read-only token the fleet shares (250 requests a minute). The nodes are a MODEL of
// the script's timing rules (test/support/etcd-lookup-fleet-model.ts) sending real HTTP requests on
// a simulated clock; each rule is tested on the real script in etcd-lookup-script.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { etcdLookupJitterSeconds } from '../../src/render/etcd-lookup.ts';
import { DigitalOceanSimulator } from '../support/do-simulator.ts';
import { EventClock, runLookupFleet } from '../support/etcd-lookup-fleet-model.ts';
import { testCluster } from './cluster-spec.ts';

const ADMIN = 'dop_v1_fleet0admin0token';
const NODES = 'dop_v1_fleet0node0readonly0token';
let clock: EventClock;
let sim: DigitalOceanSimulator;

before(async () => {
  clock = new EventClock();
  sim = new DigitalOceanSimulator({ token: ADMIN, readOnlyTokens: [NODES], now: () => clock.now() });
  await sim.start();
});
after(async () => {
  await sim?.stop();
});

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test('1,000 nodes booting at once all find the members and the token never meets its limit', { timeout: 120_000 }, async () => {
  sim.reset();
  for (let i = 0; i < 3; i++) sim.seed({ name: `etcd-${i}`, tags: ['k8s-etcd'] });
  const jitterS = etcdLookupJitterSeconds({ ...testCluster({ profile: 'modern', tag: 'k8s-etcd' }), workers: { count: 1000 } });
  const r = await runLookupFleet({ nodes: 1000, apiUrl: sim.url, token: NODES, tag: 'k8s-etcd', clock, jitterS, random: seeded(7) });
  const last = Math.max(...r.doneAtS.map((s) => s ?? Infinity));
  const peak = sim.peakInWindow(60_000);
  console.log(`etcd-lookup fleet N=1000, jitter ${jitterS} s: ${r.requests} requests, ${r.rateLimited} rate limited, peak ${peak}/min, last node done after ${last} s`);
  assert.ok(r.doneAtS.every((s) => s !== undefined), 'every node wrote its members');
  assert.equal(r.rateLimited, 0, 'no node met the rate limit');
  assert.ok(peak <= 250, `peak ${peak} requests in a minute`);
  assert.equal(r.requests, 1000, 'one request per node: no retries needed');
  assert.ok(last <= jitterS, `the last node finished within the jitter window (${last} s)`);
});

test('under a tighter limit than the jitter was sized for (60/min), the fleet backs off on 429 until every node has the members, without a retry storm', { timeout: 120_000 }, async () => {
  sim.reset({ limitPerMinute: 60 });
  try {
    for (let i = 0; i < 3; i++) sim.seed({ name: `etcd-${i}`, tags: ['k8s-etcd'] });
    // a tighter budget than the jitter was sized for: 60 a minute against ~100 a minute arriving
    const r = await runLookupFleet({ nodes: 1000, apiUrl: sim.url, token: NODES, tag: 'k8s-etcd', clock, jitterS: 600, random: seeded(11) });
    const last = Math.max(...r.doneAtS.map((s) => s ?? Infinity));
    console.log(`etcd-lookup fleet N=1000 at 60/min: ${r.requests} requests, ${r.rateLimited} rate limited, peak ${sim.peakInWindow(60_000)}/min, last node done after ${last} s`);
    assert.ok(r.doneAtS.every((s) => s !== undefined), 'every node wrote its members');
    assert.ok(r.requests < 2 * 1000, `${r.requests} requests: retries stay below one per node on average`);
    assert.ok(sim.peakInWindow(60_000) <= 250, 'requests, 429s included, never arrive faster than DigitalOcean\'s real 250 a minute');
  } finally {
    sim.reset({ limitPerMinute: 250 });
  }
});

test('the script before this change (no jitter, a fixed 10 s retry) storms the same token: the comparison the rules are for', { timeout: 120_000 }, async () => {
  sim.reset();
  for (let i = 0; i < 3; i++) sim.seed({ name: `etcd-${i}`, tags: ['k8s-etcd'] });
  // two attempts each are enough to show it (the storm only ends as nodes get through, 250 a minute)
  const r = await runLookupFleet({ nodes: 1000, apiUrl: sim.url, token: NODES, tag: 'k8s-etcd', clock, jitterS: 0, naive: true, random: seeded(3), maxAttempts: 2 });
  console.log(`naive etcd-lookup fleet N=1000: ${r.requests} requests, ${r.rateLimited} rate limited, peak ${sim.peakInWindow(60_000)}/min`);
  assert.ok(r.rateLimited > 1000, `${r.rateLimited} 429s`);
  assert.ok(r.doneAtS.filter((s) => s === undefined).length > 0, 'some nodes are still without members after two attempts');
  assert.ok(sim.peakInWindow(60_000) > 250 * 4, 'requests arrive at several times the limit');
});

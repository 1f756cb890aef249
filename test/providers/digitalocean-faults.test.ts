// Faults injected by the DigitalOcean simulator (test double), seen through Prism: under each one
// the end state is exactly N droplets, no duplicates, and retries stay bounded.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { after, before, beforeEach, test } from 'node:test';
import { DigitalOceanClient } from '../../src/providers/digitalocean/api-client.ts';
import { listDropletsByTag } from '../../src/providers/digitalocean/droplets.ts';
import { ensureWorkers, type WorkerPoolSpec } from '../../src/providers/digitalocean/ensure-workers.ts';
import { resolveSshKeys } from '../../src/providers/digitalocean/ssh-keys.ts';
import { DigitalOceanRetriesExhaustedError } from '../../src/providers/digitalocean/errors.ts';
import { DropletLimitError } from '../../src/providers/digitalocean/droplet-limit.ts';
import type { Fault } from '../support/do-simulator.ts';
import { canaryToken, startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.sim.reset({ limitPerMinute: 250, maxPageSize: 200, listLagMs: 0 });
  h.calls.length = 0;
});

const pool: WorkerPoolSpec = {
  region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['k8s-worker'], vpcUuid: null, domain: 'example.com', namePattern: 'k8s-worker-{index}.{domain}',
};

function assertExactly(n: number): void {
  const expected = Array.from({ length: n }, (_, i) => `k8s-worker-${i}.example.com`).sort();
  assert.deepEqual(h.sim.dropletNames(), expected, `want exactly ${n} droplets, no duplicates`);
}

function report(label: string): void {
  const c = h.sim.counts();
  const faults = h.sim.requests.filter((r) => r.fault).length;
  console.log(`${label}: ${c.total} API calls (${c.creates} creates, ${c.lists} lists), ${faults} faults injected`);
}

const scenarios: { name: string; faults: Fault[]; timeoutMs?: number; minCreates?: number }[] = [
  { name: 'a burst of 429s with DigitalOcean\'s headers and body', faults: [{ kind: '429', count: 6 }, { kind: '429', method: 'POST', count: 2 }] },
  { name: '500s on lists and creates', faults: [{ kind: '500', method: 'GET', count: 3 }, { kind: '500', method: 'POST', count: 2 }] },
  { name: 'connection resets (Prism answers 500 for the broken upstream)', faults: [{ kind: 'reset', count: 4 }, { kind: 'reset', method: 'POST', count: 2 }] },
  { name: 'slow responses past the client timeout', faults: [{ kind: 'slow', method: 'GET', delayMs: 700, count: 2 }], timeoutMs: 300 },
  { name: 'lost create responses (applied, then the connection broke)', faults: [{ kind: 'lose-create', method: 'POST', count: 2 }] },
  { name: 'lost create responses (applied, then too slow to arrive)', faults: [{ kind: 'lose-create', method: 'POST', delayMs: 700, count: 2 }], timeoutMs: 300 },
];

for (const s of scenarios) {
  test(`under ${s.name} ensuring 25 workers ends with exactly 25 droplets`, async () => {
    h.sim.inject(...s.faults);
    const r = await ensureWorkers({ client: h.client(s.timeoutMs ? { requestTimeoutMs: s.timeoutMs } : {}), pool, count: 25, sshKeys: ['3b:16'], clock: h.clock });
    report(s.name);
    assert.ok(h.sim.requests.some((q) => q.fault), 'the fault was injected');
    assert.equal(r.workers.length, 25);
    assertExactly(25);
    // a rerun after the storm creates nothing
    h.sim.resetCounts();
    await ensureWorkers({ client: h.client(), pool, count: 25, sshKeys: ['3b:16'], clock: h.clock });
    assert.equal(h.sim.counts().posts, 0);
  });
}

test('a lost create response is followed by a list, not a blind second create', async () => {
  h.sim.inject({ kind: 'lose-create', method: 'POST', count: 1 });
  await ensureWorkers({ client: h.client(), pool, count: 5, sshKeys: ['3b:16'], clock: h.clock });
  // the listings by tag and the creates (the droplet-limit check before the first create aside)
  const seq = h.sim.requests.filter((r) => r.method === 'POST' || r.query['tag_name'] !== undefined).map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(seq.slice(0, 3), ['GET /v2/droplets', 'POST /v2/droplets', 'GET /v2/droplets']);
  assert.equal(h.sim.counts().creates, 1, 'the create was applied, so it is not repeated');
  assertExactly(5);
});

test('a lost create whose droplets appear in lists only later is still not repeated', async () => {
  h.sim.reset({ listLagMs: 1_500 });
  h.sim.inject({ kind: 'lose-create', method: 'POST', count: 1 });
  await ensureWorkers({ client: h.client(), pool, count: 5, sshKeys: ['3b:16'], clock: h.clock });
  assert.equal(h.sim.counts().creates, 1);
  assertExactly(5);
});

test('with a single listing after a lost create, list lag would make a duplicate (the settle listings matter)', async () => {
  h.sim.reset({ listLagMs: 1_500 });
  h.sim.inject({ kind: 'lose-create', method: 'POST', count: 1 });
  await ensureWorkers({ client: h.client(), pool, count: 5, sshKeys: ['3b:16'], clock: h.clock, settleListings: 1 });
  assert.equal(h.sim.dropletNames().length, 10, 'every name twice');
});

test('Prism guards the contract: an off-contract answer from the simulator never reaches the client', async () => {
  h.sim.inject({ kind: 'off-contract', method: 'GET', count: 1000 });
  const direct = await fetch(`${h.prism.url}/v2/droplets?tag_name=k8s-worker`, { headers: { authorization: `Bearer ${canaryToken}` } });
  assert.equal(direct.status, 500);
  assert.match(await direct.text(), /Response body must have required property 'meta'/);
  const err = await listDropletsByTag(h.client({ maxAttempts: 2 }), 'k8s-worker').catch((e: unknown) => e);
  assert.ok(err instanceof DigitalOceanRetriesExhaustedError, String(err));
});

test('the per-minute rate limit is waited out using retry-after', async () => {
  h.sim.reset({ limitPerMinute: 4 });
  const before = h.clock.now();
  await ensureWorkers({ client: h.client(), pool, count: 30, sshKeys: ['3b:16'], clock: h.clock });
  report('rate limit 4/min');
  const limited = h.sim.requests.filter((r) => r.status === 429 && !r.fault);
  assert.ok(limited.length > 0, 'the simulator enforced its limit');
  assert.ok(h.clock.now() - before >= 60_000, 'the client waited for the window to pass');
  assertExactly(30);
});

test('through Prism, a nearly spent hour is paced from ratelimit-remaining/-reset without one 429 (100 workers)', async () => {
  // 10 of the hour's 5,000 left, the oldest expiring in 10 minutes: the headers must survive the proxy for the pacer to see them
  h.sim.preload(4_990, 3_000_000);
  const client = h.client();
  await ensureWorkers({ client, pool, count: 100, sshKeys: ['3b:16'], clock: h.clock, deadlineMs: 3_600_000 });
  report('100 workers, 10 requests left in the hour');
  assert.equal(h.sim.requests.filter((r) => r.status === 429).length, 0);
  assert.ok(client.pacer.waitedMs >= 9 * 60_000, `paced ${client.pacer.waitedMs} ms`);
  assertExactly(100);
});

test('through Prism, the account\'s droplet limit is read before the first create and a pool past it creates nothing', async () => {
  h.sim.reset({ dropletLimit: 10 });
  try {
    const err = await ensureWorkers({ client: h.client(), pool, count: 11, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
    assert.ok(err instanceof DropletLimitError, String(err));
    assert.equal(h.sim.counts().creates, 0);
    assert.equal(h.sim.requests.filter((r) => r.path === '/v2/account' && r.status === 200).length, 1, 'the account answer passed the contract');
  } finally {
    h.sim.reset({ dropletLimit: 10_000 });
  }
});

test('through Prism, a token without account:read (403 on /v2/account) skips the droplet-limit check: the pool is created, and past the limit the API\'s own 422 stops it', async () => {
  h.sim.reset({ dropletLimit: 4, accountRead: false });
  try {
    await ensureWorkers({ client: h.client(), pool, count: 3, sshKeys: ['3b:16'], clock: h.clock });
    assertExactly(3);
    const account = h.sim.requests.filter((r) => r.path === '/v2/account');
    assert.deepEqual(account.map((r) => r.status), [403], 'asked once, refused, not retried');
    assert.ok(!h.sim.requests.some((r) => r.path === '/v2/droplets' && r.query['per_page'] === '1'), 'no droplet count for a limit it could not read');

    const err = await ensureWorkers({ client: h.client(), pool, count: 6, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
    assert.ok(!(err instanceof DropletLimitError), 'the limit was never read, so kubewright cannot name it');
    assert.match(String(err), /422/);
    assert.ok(h.sim.requests.some((r) => r.method === 'POST' && r.path === '/v2/droplets' && r.status === 422), 'the API refused the create past its limit');
  } finally {
    h.sim.reset({ dropletLimit: 10_000, accountRead: true });
  }
});

test('retries stop after the attempt limit with a clear error', async () => {
  h.sim.inject({ kind: '500', method: 'GET', count: 1000 });
  const err = await ensureWorkers({ client: h.client({ maxAttempts: 4 }), pool, count: 3, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
  assert.ok(err instanceof DigitalOceanRetriesExhaustedError, String(err));
  assert.equal(err.attempts, 4);
  assert.match(err.describe(), /GET \/v2\/droplets: gave up after 4 attempts; last: server error 500/);
  assert.equal(h.sim.requests.length, 4);
});

test('retries stop when the next wait would pass the total retry budget', async () => {
  h.sim.reset({ limitPerMinute: 1 });
  const err = await ensureWorkers({ client: h.client({ maxRetryMs: 10_000 }), pool, count: 3, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
  assert.ok(err instanceof DigitalOceanRetriesExhaustedError, String(err));
  assert.match(err.message, /would pass the 10 s retry budget; last: rate limited/);
  assert.match(err.hint ?? '', /rate limit/);
});

test('a random storm of every fault over 100 workers still ends with exactly 100 droplets', async () => {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const kinds: Fault['kind'][] = ['429', '500', 'reset', 'lose-create'];
  for (let i = 0; i < 12; i++) {
    const kind = kinds[Math.floor(rnd() * kinds.length)] ?? '500';
    h.sim.inject(kind === 'lose-create' ? { kind, method: 'POST' } : { kind, ...(rnd() < 0.5 ? { method: 'POST' } : {}) });
  }
  const r = await ensureWorkers({ client: h.client({ random: rnd }), pool, count: 100, sshKeys: ['3b:16'], clock: h.clock });
  report('random storm, 100 workers');
  assert.equal(r.workers.length, 100);
  assertExactly(100);
});

// Without a proxy in between, a reset reaches the client as a broken connection (Prism turns it
// into a 500); this exercises the client's own network-error path against the same simulator.
test('direct connection resets: lists are retried and a reset create is reconciled by listing', async () => {
  h.sim.inject({ kind: 'reset', method: 'GET', count: 2 }, { kind: 'lose-create', method: 'POST', count: 1 });
  const direct = new DigitalOceanClient({ token: canaryToken, baseUrl: h.sim.url, clock: h.clock });
  await ensureWorkers({ client: direct, pool, count: 12, sshKeys: ['3b:16'], clock: h.clock });
  assert.ok(h.sim.requests.filter((r) => r.status === 'reset').length >= 3);
  assertExactly(12);
});

test('a 429 without retry-after waits until ratelimit-reset', async () => {
  h.sim.inject({ kind: '429', method: 'GET', resetInS: 30 });
  const before = h.clock.now();
  await listDropletsByTag(h.client(), 'k8s-worker');
  const waited = h.clock.now() - before;
  assert.ok(waited >= 29_000 && waited <= 31_500, `waited ${waited} ms for a reset 30 s ahead`);
});

test('backoff doubles per attempt, with jitter between half and all of each step', async () => {
  const waits = async (random: number): Promise<number> => {
    h.sim.inject({ kind: '500', method: 'GET', count: 4 });
    const before = h.clock.now();
    await listDropletsByTag(h.client({ random: () => random }), 'k8s-worker');
    return h.clock.now() - before;
  };
  assert.equal(await waits(0.9999), 500 + 1000 + 2000 + 4000);
  assert.equal(await waits(0), 250 + 500 + 1000 + 2000);
});

test('a lost SSH key upload is checked by one more lookup instead of uploading twice', async () => {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const ssh2 = (await import('ssh2')).default;
  const pub = join(h.dir, 'lost.pub');
  await writeFile(pub, `${ssh2.utils.generateKeyPairSync('ed25519').public}\n`);
  h.sim.inject({ kind: 'lose-create', method: 'POST', path: '/v2/account/keys' });
  const r = await resolveSshKeys(h.client(), { sshKeys: [], publicKeyPath: pub, keyName: 'kubewright-test' });
  assert.equal(r.uploaded, true);
  assert.equal(h.sim.accountKeys().length, 1);
  assert.deepEqual(r.keys, [h.sim.accountKeys()[0]?.fingerprint]);
});

test('property: from any mix of existing workers and extras, under any faults, ensure converges without duplicates', async () => {
  const faultArb = fc.record({
    kind: fc.constantFrom<Fault['kind']>('429', '500', 'reset', 'lose-create'),
    onPost: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 23 }),
      fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 12 }),
      fc.array(faultArb, { maxLength: 6 }),
      fc.boolean(),
      async (n, existing, faults, prune) => {
        h.sim.reset({ listLagMs: 0 });
        for (const i of new Set(existing)) h.sim.seed({ name: `k8s-worker-${i}.example.com`, tags: ['k8s-worker'] });
        h.sim.inject(...faults.map((f): Fault => (f.kind === 'lose-create' || f.onPost ? { kind: f.kind, method: 'POST' } : { kind: f.kind })));
        const r = await ensureWorkers({ client: h.client(), pool, count: n, sshKeys: ['3b:16'], clock: h.clock, prune });
        const extras = [...new Set(existing)].filter((i) => i >= n).map((i) => `k8s-worker-${i}.example.com`);
        const wanted = Array.from({ length: n }, (_, i) => `k8s-worker-${i}.example.com`);
        assert.deepEqual(h.sim.dropletNames(), [...wanted, ...(prune ? [] : extras)].sort());
        assert.deepEqual([...(prune ? r.pruned : r.extras)].sort(), extras.sort());
        assert.ok(h.sim.counts().creates <= Math.ceil((n - existing.filter((i) => i < n).length) / 10) + faults.length);
      },
    ),
    { numRuns: 25, seed: 4 },
  );
});

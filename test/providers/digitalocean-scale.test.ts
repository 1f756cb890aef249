// 1,000 workers on DigitalOcean within the token's rate limits, against the DigitalOcean simulator
// (test/support/do-simulator.ts, a TEST DOUBLE) directly on loopback: Prism validates every
// request and response in the other DigitalOcean tests (digitalocean-faults.test.ts runs the
// pacing through it at a smaller N), but proxying 1,000 droplets' lists through it costs minutes
// on 2 cores. Simulated time (fake clock shared by client and simulator) except for the SIGINT
// test, which runs the real CLI in a child process on real time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { DigitalOceanClient } from '../../src/providers/digitalocean/api-client.ts';
import { DropletLimitError } from '../../src/providers/digitalocean/droplet-limit.ts';
import { ensureWorkers, type WorkerPoolSpec } from '../../src/providers/digitalocean/ensure-workers.ts';
import { DigitalOceanSimulator, type RecordedRequest } from '../support/do-simulator.ts';
import { terraformModel } from '../support/terraform-do-model.ts';
import { FakeClock } from './fake-clock.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const token = 'dop_v1_scale0test0token0000000000000000000000000000000000000000000000';
const pool: WorkerPoolSpec = {
  region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['k8s-worker', 'k8s-demo'], vpcUuid: null, domain: 'example.com', namePattern: 'k8s-worker-{index}.{domain}',
};
const activateAfterS = 45;

let clock: FakeClock;
let sim: DigitalOceanSimulator;
before(async () => {
  clock = new FakeClock();
  sim = new DigitalOceanSimulator({ token, now: () => clock.now(), activateAfterMs: activateAfterS * 1000 });
  await sim.start();
});
after(async () => {
  await sim?.stop();
});

const over = (r: RecordedRequest): boolean => r.status === 429;

function assertExactly(n: number): void {
  const names = sim.dropletNames();
  assert.equal(names.length, n, `want exactly ${n} droplets`);
  assert.equal(new Set(names).size, n, 'no duplicate names');
  const expected = new Set(Array.from({ length: n }, (_, i) => `k8s-worker-${i}.example.com`));
  for (const name of names) {
    assert.ok(expected.has(name), `unexpected droplet ${name}`);
    for (const d of sim.dropletsByName(name)) assert.deepEqual(d.tags, pool.tags, `${name} carries every tag`);
  }
}

test('ensuring 1,000 workers takes 100 creates and at most 150 calls, without one 429, and is far below the Terraform model', async () => {
  sim.reset();
  const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock });
  const start = clock.now();
  const r = await ensureWorkers({ client, pool, count: 1000, sshKeys: ['3b:16'], clock });
  const simulatedS = (clock.now() - start) / 1000;
  const c = sim.counts();
  const tf = terraformModel(1000, activateAfterS);
  console.log(`ensure N=1000: ${c.total} calls (${c.creates} creates, ${c.lists} list pages), simulated ${simulatedS} s; ` +
    `Terraform model: ${tf.calls} calls, ≥ ${tf.modelledS} s (${(tf.calls / c.total).toFixed(0)}x the calls)`);
  assert.equal(r.workers.length, 1000);
  assert.equal(c.creates, 100);
  assert.ok(c.total <= 150, `${c.total} calls > 150`);
  assert.equal(sim.requests.filter(over).length, 0, 'no request met the rate limit');
  assert.ok(sim.peakInWindow(60_000) <= 250);
  assert.ok(simulatedS < tf.modelledS, 'faster than the Terraform model');
  assert.ok(tf.calls > 50 * c.total);
  assertExactly(1000);

  sim.resetCounts();
  await ensureWorkers({ client, pool, count: 1000, sshKeys: ['3b:16'], clock });
  assert.deepEqual(sim.counts().byRoute, { 'GET /v2/droplets': 5 }, 'a rerun lists 5 pages of 200 and creates nothing');
});

test('with 4,950 of the hour already spent on the token, 1,000 workers are paced from ratelimit-remaining/-reset without one 429', async () => {
  sim.reset();
  // someone else used the token over the last 50 minutes: 50 requests remain, and the oldest of
  // theirs expires in 10 minutes; the pacer spreads the 50 over those 10 minutes
  sim.preload(4_950, 3_000_000);
  const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock });
  const start = clock.now();
  await ensureWorkers({ client, pool, count: 1000, sshKeys: ['3b:16'], clock, deadlineMs: 3_600_000 });
  const c = sim.counts();
  console.log(`ensure N=1000 with 50 of 5,000 left: ${c.total} calls, simulated ${Math.round((clock.now() - start) / 1000)} s, paced ${Math.round(client.pacer.waitedMs / 1000)} s`);
  assert.equal(sim.requests.filter(over).length, 0, 'paced, not rate limited');
  assert.ok(client.pacer.waitedMs >= 9 * 60_000, `the pacer spread the last 50 requests over the 10 minutes to the reset (waited ${client.pacer.waitedMs} ms)`);
  assertExactly(1000);
});

test('a client paced to the account\'s per-minute limit never meets it (20/min, 1,000 workers)', async () => {
  sim.reset({ limitPerMinute: 20 });
  try {
    const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock, limits: { perMinute: 20 } });
    await ensureWorkers({ client, pool, count: 1000, sshKeys: ['3b:16'], clock, deadlineMs: 3_600_000 });
    assert.equal(sim.requests.filter(over).length, 0);
    assert.ok(sim.peakInWindow(60_000) <= 20, `peak ${sim.peakInWindow(60_000)} per minute`);
    assertExactly(1000);
  } finally {
    sim.reset({ limitPerMinute: 250 });
  }
});

test('1,000 workers on an account limited to 25 droplets stop before any create, with the numbers and how to raise the limit', async () => {
  sim.reset({ dropletLimit: 25 });
  try {
    sim.seed({ name: 'someone-elses-droplet', tags: ['web'] });
    const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock });
    const err = await ensureWorkers({ client, pool, count: 1000, sshKeys: ['3b:16'], clock }).catch((e: unknown) => e);
    assert.ok(err instanceof DropletLimitError, String(err));
    assert.match(err.message, /creating 1000 droplets would pass the account's droplet limit of 25 \(1 droplets exist already\); nothing was created/);
    assert.match(err.hint ?? '', /raise the limit to at least 1001 .*request an increase/);
    assert.equal(sim.counts().creates, 0);
    // within the limit the check passes and costs two calls
    sim.resetCounts();
    await ensureWorkers({ client, pool, count: 24, sshKeys: ['3b:16'], clock });
    assert.equal(sim.counts().byRoute['GET /v2/account'], 1);
    assert.equal(sim.dropletNames().length, 25);
  } finally {
    sim.reset({ dropletLimit: 10_000 });
  }
});

test('provision interrupted by SIGINT at a random create, then run again, ends with exactly 1,000 droplets', { timeout: 240_000 }, async () => {
  // real time here: the CLI is a child process; droplets are active at once so nothing waits on boot
  const realSim = new DigitalOceanSimulator({ token, activateAfterMs: 0 });
  await realSim.start();
  const dir = await mkdtemp(join(tmpdir(), 'kubewright-do-scale-'));
  try {
    const spec = join(dir, 'cluster.yaml');
    await writeFile(spec, [
      'apiVersion: kubewright.dev/v1alpha1',
      'kind: Cluster',
      'metadata: { name: scale }',
      'kubernetes: { apiServer: "https://api.example.com:6443" }',
      'provider:',
      '  digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [k8s-worker, k8s-demo], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com }',
      'workers: { count: 1000 }',
      'ssh: { knownHostsPath: ./known_hosts }',
      '',
    ].join('\n'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const seed = Number(process.env['KUBEWRIGHT_TEST_SEED'] ?? Date.now() % 100_000);
    const stopAt = 1 + (seed % 90); // as the k-th create (of 100) reaches the API, k in 1..90
    console.log(`SIGINT after create ${stopAt} (KUBEWRIGHT_TEST_SEED=${seed} repeats it)`);
    const provision = (interruptAtCreate?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'provision', '-f', spec, '--token-file', tokenFile, '--api-url', realSim.url, '--poll-interval', '100ms', '--timeout', '120s'], {
          cwd: repo, stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        let creates = 0;
        realSim.onRequest = (r): void => {
          if (r.method === 'POST' && r.path === '/v2/droplets' && ++creates === interruptAtCreate) child.kill('SIGINT');
        };
        child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
      });
    const first = await provision(stopAt);
    assert.ok(first.code !== 0, `the first run was interrupted (exit ${first.code}, signal ${first.signal})`);
    const afterFirst = realSim.dropletNames().length;
    assert.ok(afterFirst >= stopAt * 10 && afterFirst < 1000, `${afterFirst} droplets after the interrupted run`);
    realSim.resetCounts();
    const second = await provision();
    assert.equal(second.code, 0, second.stderr.slice(-2000));
    const names = realSim.dropletNames();
    assert.equal(names.length, 1000);
    assert.equal(new Set(names).size, 1000, 'no duplicate names');
    for (const n of names) assert.deepEqual(realSim.dropletsByName(n).map((d) => d.tags), [['k8s-worker', 'k8s-demo']], `${n}: one droplet with every tag`);
    // at most (a create the dying run had sent may still land after it exited)
    assert.ok(realSim.counts().creates <= Math.ceil((1000 - afterFirst) / 10), 'the second run created only what was missing');
    const state = JSON.parse(await readFile(join(dir, '.kubewright/scale/digitalocean.json'), 'utf8')) as { hosts: { name: string; hostKeyPinned: boolean }[] };
    assert.equal(state.hosts.length, 1000);
    assert.ok(state.hosts.every((h) => h.hostKeyPinned), 'every droplet kubewright created has its host key pinned');
  } finally {
    realSim.onRequest = undefined;
    await realSim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

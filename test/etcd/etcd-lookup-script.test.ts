// The rendered etcd-lookup script, run for real with /bin/sh in a fake root against the
// DigitalOcean simulator on loopback (test/support/do-simulator.ts, a test double of the API).
// curl is wrapped by a logging shim so we can prove the token never reaches a command line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { discoverEtcdMembers } from '../../src/etcd/etcd-discovery.ts';
import { formatEtcdMembersLine } from '../../src/spec/etcd-endpoint.ts';
import { DigitalOceanClient } from '../../src/providers/digitalocean/api-client.ts';
import { listEtcdEndpoints } from '../../src/providers/digitalocean/etcd-endpoints.ts';
import { renderEtcdLookupScript } from '../../src/render/etcd-lookup.ts';
import { DigitalOceanSimulator } from '../support/do-simulator.ts';
import { makeFakeRoot, runConfined } from '../support/fake-root.ts';
import { issueTestCertificates, type TestCertificates } from '../support/etcd-test-certificates.ts';
import { testCluster } from './cluster-spec.ts';

const TOKEN = 'dop_v1_5ecre7t0ken0f0etcd0lookup0test';
let sim: DigitalOceanSimulator;
let apiUrl: string;
let dir: string;

let certs: TestCertificates;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-etcd-lookup-'));
  // the simulator serves HTTPS with a certificate of a test CA (SAN 127.0.0.1), which curl trusts through CURL_CA_BUNDLE
  certs = await issueTestCertificates(join(dir, 'tls'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
// a fresh simulator per test: droplet ids, and so the addresses it hands out, start over
// (the first droplet seeded gets 10.135.0.4, the next 10.135.0.5, ...)
beforeEach(async () => {
  sim = new DigitalOceanSimulator({ token: TOKEN, maxPageSize: 2, tls: { key: await readFile(certs.files.serverKey, 'utf8'), cert: await readFile(certs.files.serverCert, 'utf8') } });
  apiUrl = await sim.start();
});
afterEach(async () => {
  await sim?.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  root: string;
  curlArgs: string;
}

let runs = 0;

/** Renders the script for a spec, puts it into a fresh fake root and runs it there with sh, as
 * root with the root as `/` (test/support/fake-root.ts: the script's real paths, no override). */
async function runLookup(
  spec: { tag?: string; endpoints?: string[] },
  opts: { token?: string | null; tokenMode?: number; attempts?: number; retrySeconds?: number; root?: string; apiUrl?: string; jitterSeconds?: number; refreshSeconds?: number; fakeSleep?: boolean } = {},
): Promise<Run> {
  const root = opts.root ?? join(dir, `root-${++runs}`);
  if (!opts.root) await makeFakeRoot(root, dir);
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await mkdir(join(root, 'etc/flannel'), { recursive: true });
  await writeFile(join(root, 'usr/local/bin/etcd-lookup'), renderEtcdLookupScript(testCluster({ profile: 'modern', ...spec })), { mode: 0o755 });
  if (opts.token !== null) {
    const tokenFile = join(root, 'etc/flannel/do-token');
    await writeFile(tokenFile, `${opts.token ?? TOKEN}\n`);
    await chmod(tokenFile, opts.tokenMode ?? 0o600);
  }
  // a curl that logs its arguments, then runs the real one (in the test's folder, seen at its own path)
  const shims = await mkdtemp(join(dir, 'shims-'));
  const curlLog = join(shims, 'curl-args.log');
  await writeFile(join(shims, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${curlLog}'\nexec /usr/bin/curl "$@"\n`, { mode: 0o755 });
  await writeFile(curlLog, '');
  // fakeSleep: a sleep that logs its seconds and returns at once, so the script's waits are asserted, not spent
  if (opts.fakeSleep) await writeFile(join(shims, 'sleep'), `#!/bin/sh\nprintf '%s\\n' "$1" >>'${join(root, 'sleep.log')}'\n`, { mode: 0o755 });
  const r = await runConfined(root, dir, '/bin/sh /usr/local/bin/etcd-lookup', {
    PATH: `${shims}:/usr/local/bin:/usr/bin:/bin`,
    DIGITALOCEAN_API_URL: opts.apiUrl ?? apiUrl,
    CURL_CA_BUNDLE: certs.files.ca,
    ETCD_LOOKUP_ATTEMPTS: String(opts.attempts ?? 1),
    ETCD_LOOKUP_RETRY_SECONDS: String(opts.retrySeconds ?? 0),
    ETCD_LOOKUP_JITTER_SECONDS: String(opts.jitterSeconds ?? 0),
    ...(opts.refreshSeconds === undefined ? {} : { ETCD_LOOKUP_REFRESH_SECONDS: String(opts.refreshSeconds) }),
  });
  return { ...r, root, curlArgs: await readFile(curlLog, 'utf8') };
}

function assertNoToken(r: Run): void {
  for (const [what, text] of [['stdout', r.stdout], ['stderr', r.stderr], ['curl argv', r.curlArgs]] as const) {
    assert.ok(!text.includes(TOKEN), `the token leaked into ${what}`);
  }
}

const members = (r: Run): Promise<string> => readFile(join(r.root, 'etc/flannel/etcd-members'), 'utf8');

function seedEtcd(n: number, tag = 'k8s-etcd'): void {
  for (let i = 0; i < n; i++) sim.seed({ name: `etcd-${i}`, tags: [tag] });
}

test('the script writes the private addresses of every tagged droplet across pages', async () => {
  seedEtcd(5); // 3 pages of 2
  sim.seed({ name: 'k8s-worker-0', tags: ['k8s-worker'] });
  const r = await runLookup({ tag: 'k8s-etcd' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    await members(r),
    'ETCD_MEMBERS=https://10.135.0.4:2379,https://10.135.0.5:2379,https://10.135.0.6:2379,https://10.135.0.7:2379,https://10.135.0.8:2379\n',
  );
  const pages = sim.requests.filter((q) => q.path === '/v2/droplets').map((q) => [q.query['tag_name'], q.query['page'], q.status]);
  assert.deepEqual(pages, [['k8s-etcd', '1', 200], ['k8s-etcd', '2', 200], ['k8s-etcd', '3', 200]]);
  const st = await stat(join(r.root, 'etc/flannel/etcd-members'));
  assert.equal(st.mode & 0o777, 0o644);
  assertNoToken(r);
});

test("the script's line is the one kubewright's own discovery computes from the same API", async () => {
  seedEtcd(7);
  const r = await runLookup({ tag: 'k8s-etcd', endpoints: ['https://10.135.0.5:2379/', 'https://10.0.0.9:2379'] });
  assert.equal(r.code, 0, r.stderr);
  // kubewright's client asks a plain-HTTP twin seeded the same way (Node's fetch does not take the test CA; the ids, so the addresses, match)
  const twin = new DigitalOceanSimulator({ token: TOKEN, maxPageSize: 2 });
  const twinUrl = await twin.start();
  for (let i = 0; i < 7; i++) twin.seed({ name: `etcd-${i}`, tags: ['k8s-etcd'] });
  const client = new DigitalOceanClient({ token: TOKEN, baseUrl: twinUrl, maxAttempts: 1 });
  const cluster = testCluster({ profile: 'modern', tag: 'k8s-etcd', endpoints: ['https://10.135.0.5:2379/', 'https://10.0.0.9:2379'] });
  const found = await discoverEtcdMembers(cluster, {
    listDropletPrivateIps: async (tag) => (await listEtcdEndpoints(client, tag)).map((e) => new URL(e).hostname),
  }).finally(() => twin.stop());
  assert.equal(await members(r), `${formatEtcdMembersLine(found.endpoints)}\n`);
  // byte order (LC_ALL=C sort), the same in the script and in kubewright: .10 before .4
  assert.equal(
    await members(r),
    'ETCD_MEMBERS=https://10.0.0.9:2379,https://10.135.0.10:2379,https://10.135.0.4:2379,https://10.135.0.5:2379,https://10.135.0.6:2379,https://10.135.0.7:2379,https://10.135.0.8:2379,https://10.135.0.9:2379\n',
  );
  assert.deepEqual(found.sources['https://10.135.0.5:2379'], ['digitalocean', 'static']);
});

test('a re-run within the refresh age uses the file without the API; past it, an unchanged list leaves the file in place', async () => {
  seedEtcd(2);
  const first = await runLookup({ tag: 'k8s-etcd' });
  assert.equal(first.code, 0, first.stderr);
  const before = await stat(join(first.root, 'etc/flannel/etcd-members'));
  sim.resetCounts();
  const fresh = await runLookup({ tag: 'k8s-etcd' }, { root: first.root });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /etcd-members is \d+ s old \(asked again after 86400 s\): using it without asking the API/);
  assert.equal(sim.requests.length, 0, 'no API call within the refresh age');
  const again = await runLookup({ tag: 'k8s-etcd' }, { root: first.root, refreshSeconds: 0 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /unchanged: ETCD_MEMBERS=/);
  assert.equal(sim.requests.length, 1);
  const after = await stat(join(first.root, 'etc/flannel/etcd-members'));
  assert.equal(after.ino, before.ino, 'not replaced');
  assert.equal(await members(again), 'ETCD_MEMBERS=https://10.135.0.4:2379,https://10.135.0.5:2379\n');
});

const sleeps = async (r: Run): Promise<number[]> =>
  (await readFile(join(r.root, 'sleep.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);

test('before asking the API a node waits a random delay within the jitter window, drawn from /dev/urandom', async () => {
  seedEtcd(1);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await runLookup({ tag: 'k8s-etcd' }, { jitterSeconds: 600, fakeSleep: true });
    assert.equal(r.code, 0, r.stderr);
    const [d] = await sleeps(r);
    assert.ok(d !== undefined && d >= 0 && d <= 600, `delay ${d} within 0..600`);
    delays.push(d);
  }
  assert.ok(new Set(delays).size > 1, `six nodes started in the same second drew different delays (${delays.join(', ')})`);
});

test('the rendered jitter window grows with the fleet: about 100 first lookups a minute', async () => {
  const { etcdLookupJitterSeconds } = await import('../../src/render/etcd-lookup.ts');
  const sized = (count: number): number => etcdLookupJitterSeconds({ ...testCluster({ profile: 'modern', tag: 'k8s-etcd' }), workers: { count } });
  assert.deepEqual([sized(3), sized(100), sized(1000)], [2, 60, 600]);
  assert.equal(etcdLookupJitterSeconds(testCluster({ profile: 'modern', endpoints: ['https://10.0.0.5:2379'] })), 0, 'no API, no delay');
  assert.match(renderEtcdLookupScript({ ...testCluster({ profile: 'modern', tag: 'k8s-etcd' }), workers: { count: 1000 } }), /^JITTER_SECONDS="\$\{ETCD_LOOKUP_JITTER_SECONDS:-600\}"$/m);
});

test('a 429 without retry-after waits until ratelimit-reset, then the lookup succeeds', async () => {
  seedEtcd(1);
  sim.inject({ kind: '429', resetInS: 40 });
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 3, fakeSleep: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /HTTP 429 listing droplets tagged k8s-etcd \(rate limited, wait \d+ s\)/);
  const [wait] = await sleeps(r);
  assert.ok(wait !== undefined && wait >= 38 && wait <= 41, `waited ${wait} s for a reset 40 s ahead`);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.135.0.4:2379\n');
});

test('a burst 429 waits retry-after plus a random share of the spread, so the fleet does not retry in step', async () => {
  seedEtcd(1);
  sim.inject({ kind: '429' }); // retry-after: 1
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 3, jitterSeconds: 100, fakeSleep: true });
  assert.equal(r.code, 0, r.stderr);
  const [start, retry] = await sleeps(r);
  assert.ok(start !== undefined && start <= 100);
  assert.ok(retry !== undefined && retry >= 1 && retry <= 101, `retry after ${retry} s`);
});

test('failures back off exponentially with equal jitter, capped at 5 minutes', async () => {
  seedEtcd(1);
  sim.inject({ kind: '500', count: 7 });
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 8, retrySeconds: 10, fakeSleep: true });
  assert.equal(r.code, 0, r.stderr);
  const waits = await sleeps(r);
  const steps = [10, 20, 40, 80, 160, 300, 300];
  assert.equal(waits.length, steps.length, waits.join(', '));
  waits.forEach((w, i) => {
    const step = steps[i] ?? 0;
    assert.ok(w >= step / 2 && w <= step, `wait ${i + 1}: ${w} s within ${step / 2}..${step}`);
  });
});

test('when the API fails, a members file past its refresh age is kept rather than emptied', async () => {
  seedEtcd(1);
  const first = await runLookup({ tag: 'k8s-etcd' });
  assert.equal(first.code, 0, first.stderr);
  sim.inject({ kind: '500', count: 5 });
  const r = await runLookup({ tag: 'k8s-etcd' }, { root: first.root, refreshSeconds: 0, attempts: 5, fakeSleep: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /keeping the members already in .*etcd-members/);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.135.0.4:2379\n');
});

test('the script retries until a tagged droplet has a private address', async () => {
  // droplets turn active (and get addresses) 1.5 s after creation; the script polls every second
  sim.reset({ activateAfterMs: 1500 });
  sim.seed({ name: 'etcd-0', tags: ['k8s-etcd'], active: false });
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 20, retrySeconds: 1 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no etcd members yet: no droplet tagged k8s-etcd has a private IPv4 address \(attempt 1\)/);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.135.0.4:2379\n');
});

test('the script gives up after its attempts when no droplet carries the tag, writing nothing', async () => {
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 2 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no etcd members found after 2 attempts/);
  await assert.rejects(members(r), { code: 'ENOENT' });
});

test('a token file readable by others is refused before any request', async () => {
  seedEtcd(1);
  const r = await runLookup({ tag: 'k8s-etcd' }, { tokenMode: 0o644 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /do-token has mode 644: a token must not be readable by group or others — chmod 600/);
  assert.equal(sim.requests.length, 0);
  assertNoToken(r);
});

test('a missing token file is named with the fix', async () => {
  const r = await runLookup({ tag: 'k8s-etcd' }, { token: null });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /etc\/flannel\/do-token does not exist — put a read-only API token there \(chmod 600\)/);
});

test('a token the API rejects fails at once without printing it', async () => {
  seedEtcd(1);
  const wrong = 'dop_v1_thisisnotthetoken';
  const r = await runLookup({ tag: 'k8s-etcd' }, { token: wrong, attempts: 5 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rejected the token in .*do-token \(HTTP 401\)/);
  assert.equal(sim.requests.length, 1, 'no retries with a rejected token');
  assert.ok(!r.stderr.includes(wrong) && !r.curlArgs.includes(wrong));
  assertNoToken(r);
});

test('during an API outage the static endpoints are written alone', async () => {
  seedEtcd(1);
  sim.inject({ kind: '500', count: 5 });
  const r = await runLookup({ tag: 'k8s-etcd', endpoints: ['https://10.0.0.9:2379'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /HTTP 500 listing droplets tagged k8s-etcd/);
  assert.match(r.stderr, /writing the static endpoints alone/);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.0.0.9:2379\n');
});

test('a transient API error is retried until the members are found', async () => {
  seedEtcd(1);
  sim.inject({ kind: '429', count: 1 });
  const r = await runLookup({ tag: 'k8s-etcd' }, { attempts: 3 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /HTTP 429/);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.135.0.4:2379\n');
});

test('with static endpoints and no tag the script writes them without a token or the API', async () => {
  const r = await runLookup({ endpoints: ['https://10.0.0.6:2379', 'https://10.0.0.5:2379'] }, { token: null });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await members(r), 'ETCD_MEMBERS=https://10.0.0.5:2379,https://10.0.0.6:2379\n');
  assert.equal(sim.requests.length, 0);
  assert.equal(r.curlArgs, '');
});

test('a spec with no etcd discovery gets a script that says what to set', async () => {
  const r = await runLookup({}, { token: null });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no etcd discovery configured — set etcd\.discovery\.digitaloceanTag or etcd\.discovery\.endpoints/);
});

test('a plain http:// API URL is refused before the token is read or sent', async () => {
  seedEtcd(1);
  // the same simulator, reached without TLS: a proxy or a typo in etcd-lookup.env
  const plain = new DigitalOceanSimulator({ token: TOKEN });
  const plainUrl = await plain.start();
  try {
    const r = await runLookup({ tag: 'k8s-etcd' }, { apiUrl: plainUrl });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DIGITALOCEAN_API_URL=http:\/\/127\.0\.0\.1:\d+ is not an https:\/\/ URL: the API token is only ever sent over TLS/);
    assert.equal(plain.requests.length, 0, 'no request reached the plain-HTTP API');
    assert.equal(r.curlArgs, '');
    assertNoToken(r);
  } finally {
    await plain.stop();
  }
});

test('curl itself refuses anything but https (--proto =https), even if the URL check were bypassed', async () => {
  seedEtcd(1);
  const r = await runLookup({ tag: 'k8s-etcd' });
  assert.equal(r.code, 0, r.stderr);
  for (const line of r.curlArgs.trim().split('\n')) assert.match(line, /^--proto =https /);
  // the real curl with the script's flags: a plain-HTTP URL fails with "Protocol not supported" (exit 1)
  const plain = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('/usr/bin/curl', ['--proto', '=https', '--silent', '--show-error', 'http://127.0.0.1:9/v2/droplets'], (err, _o, stderr) => resolve({ code: typeof err?.code === 'number' ? err.code : 0, stderr }));
  });
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /not supported|disabled/i);
});

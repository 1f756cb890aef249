// `kubewright provision` and `kubewright down` against the DigitalOcean simulator (test double)
// through Prism, on real time, with a canary token that must never appear in any output, file
// or log.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import { canaryToken, startHarness, type Harness } from './do-harness.ts';

let h: Harness;
let spec: string;
let tokenFile: string;
const seen: CliResult[] = [];

before(async () => {
  h = await startHarness({ activateAfterMs: 150 }, true);
  await h.cluster(3);
  spec = join(h.dir, 'demo.yaml');
  tokenFile = join(h.dir, 'token');
  await writeFile(tokenFile, `${canaryToken}\n`, { mode: 0o600 });
});
after(async () => {
  await h?.stop();
});

async function cli(...args: string[]): Promise<CliResult> {
  const r = await runCli(...args);
  seen.push(r);
  return r;
}

const api = (): string[] => ['--api-url', h.prism.url, '--poll-interval', '50ms', '--timeout', '30s'];

test('plan lists the droplets to create without creating any', async () => {
  const r = await cli('plan', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url, '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { droplets: { toCreate: string[]; existing: string[]; createCalls: number }; hosts: unknown[] };
  assert.deepEqual(out.droplets.toCreate, ['k8s-worker-0.example.com', 'k8s-worker-1.example.com', 'k8s-worker-2.example.com']);
  assert.equal(out.droplets.createCalls, 1);
  assert.deepEqual(out.hosts, []);
  assert.equal(h.sim.counts().posts, 0);
  const text = await cli('plan', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url);
  assert.match(text.stdout, /^droplets: 3 to create in 1 call\(s\): k8s-worker-0\.example\.com/m);
  assert.doesNotMatch(text.stderr, /^· /m, 'no trace lines without -v');
  // -v: every DigitalOcean call with method, path, status and time (the token is checked absent from all output below)
  const verbose = await cli('plan', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url, '-v');
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /^· digitalocean: GET \/v2\/droplets\?\S*tag_name=\S+ → 200 \(\d+ ms\)$/m);
  assert.equal(verbose.stdout, text.stdout, '-v changes only stderr');
});

test('plan names at most ten droplets and warns when the account\'s droplet limit cannot take them', async () => {
  await h.cluster(12, { name: 'big' });
  h.sim.reset({ dropletLimit: 5 });
  try {
    h.sim.seed({ name: 'unrelated', tags: ['web'] });
    const r = await cli('plan', '-f', join(h.dir, 'big.yaml'), '--token-file', tokenFile, '--api-url', h.prism.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^droplets: 12 to create in 2 call\(s\): k8s-worker-0\.example\.com, .*k8s-worker-9\.example\.com and 2 more$/m);
    assert.match(r.stdout, /^droplets: will not fit: the account's droplet limit is 5 and 1 droplets exist — ask DigitalOcean to raise it to at least 13/m);
    assert.equal(h.sim.counts().posts, 0);
  } finally {
    h.sim.reset({ dropletLimit: 10_000 });
  }
});

test('provision creates the workers and prints them as JSON', async () => {
  const r = await cli('provision', '-f', spec, '--token-file', tokenFile, ...api(), '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { hosts: { name: string; address: string; privateAddress: string }[]; created: string[]; apiCalls: number };
  assert.deepEqual(out.hosts.map((x) => x.name), ['k8s-worker-0.example.com', 'k8s-worker-1.example.com', 'k8s-worker-2.example.com']);
  assert.deepEqual(out.created, out.hosts.map((x) => x.name));
  for (const x of out.hosts) assert.match(x.address, /^198\.18\./);
  assert.match(r.stderr, /^k8s-worker-0\.example\.com: creating droplet$/m);
  assert.equal(h.sim.counts().creates, 1);
});

test('a second provision creates nothing and says so', async () => {
  h.sim.resetCounts();
  const r = await cli('provision', '-f', spec, '--token-file', tokenFile, ...api());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 hosts ready \(0 created\)/);
  assert.equal(h.sim.counts().posts, 0);
});

test('the token is read from DIGITALOCEAN_ACCESS_TOKEN and the URL from DIGITALOCEAN_API_URL', async () => {
  process.env['DIGITALOCEAN_ACCESS_TOKEN'] = canaryToken;
  process.env['DIGITALOCEAN_API_URL'] = h.prism.url;
  try {
    const r = await cli('provision', '-f', spec, '--poll-interval', '50ms', '--output', 'json');
    assert.equal(r.code, 0, r.stderr);
  } finally {
    delete process.env['DIGITALOCEAN_ACCESS_TOKEN'];
    delete process.env['DIGITALOCEAN_API_URL'];
  }
});

test('without a token provision exits 2 and says where a token comes from', async () => {
  const r = await cli('provision', '-f', spec, ...api());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no API token — export DIGITALOCEAN_ACCESS_TOKEN=\.\.\. or pass --token-file/);
});

test('a revoked token exits 2 with "token rejected"', async () => {
  const wrong = join(h.dir, 'wrong-token');
  await writeFile(wrong, `${canaryToken}x\n`, { mode: 0o600 });
  const r = await cli('provision', '-f', spec, '--token-file', wrong, ...api());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /GET \/v2\/(droplets|firewalls): token rejected \(401 unauthorized\)/);
  assert.ok(!r.stderr.includes(`${canaryToken}x`));
});

test('down without --yes and without a terminal refuses with exit 2 and deletes nothing', async () => {
  const r = await cli('down', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to delete 3 droplets tagged k8s-worker and firewall kubewright-demo without confirmation — pass --yes/);
  assert.equal(h.sim.dropletNames().length, 3);
});

test('down refuses when the tag also covers droplets that are not this cluster\'s workers', async () => {
  const id = h.sim.seed({ name: 'db-1.example.com', tags: ['k8s-worker'] });
  try {
    const r = await cli('down', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url, '--yes');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /1 droplets tagged k8s-worker are not workers of cluster demo \(db-1\.example\.com\)/);
    assert.equal(h.sim.dropletNames().length, 4);
  } finally {
    h.sim.remove(id);
  }
});

test('down deletes the droplets it listed by id: a droplet tagged after the listing survives', async () => {
  const cluster = await h.cluster(3);
  const provider = new DigitalOceanProvider({ cluster, client: h.client() });
  const shown = await provider.taggedDroplets();
  const firewalls = await provider.firewalls();
  assert.equal(shown.length, 3);
  assert.equal(firewalls.length, 1);
  let late = 0;
  await provider.destroy(async (t) => {
    assert.deepEqual(t.items.map((i) => i.name).sort(), [...shown.map((d) => d.name), 'firewall kubewright-demo'].sort());
    // between the listing (and the user's "yes") and the delete, someone tags another droplet
    late = h.sim.seed({ name: 'k8s-worker-7.example.com', tags: ['k8s-worker'] });
    h.sim.resetCounts();
    return true;
  });
  assert.deepEqual(h.sim.dropletNames(), ['k8s-worker-7.example.com']);
  const del = h.sim.requests.filter((q) => q.method === 'DELETE');
  assert.deepEqual(del.map((q) => q.path).sort(), [...shown.map((d) => `/v2/droplets/${d.id}`), ...firewalls.map((f) => `/v2/firewalls/${f.id}`)].sort());
  assert.deepEqual(h.sim.firewallList(), []);
  h.sim.remove(late);
  // back to three workers for the CLI test below
  const again = await cli('provision', '-f', spec, '--token-file', tokenFile, ...api());
  assert.equal(again.code, 0, again.stderr);
});

test('down --yes deletes the listed droplets by id and forgets host keys, known_hosts lines and state', async () => {
  h.sim.seed({ name: 'unrelated', tags: ['other'] });
  h.sim.resetCounts();
  const r = await cli('down', '-f', spec, '--token-file', tokenFile, '--api-url', h.prism.url, '--yes');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deleted 3 droplets tagged k8s-worker and firewall kubewright-demo/);
  assert.match(r.stderr, /^firewall kubewright-demo: will be deleted \(id [0-9a-f-]{36}\)$/m);
  const del = h.sim.requests.filter((q) => q.method === 'DELETE');
  assert.equal(del.length, 4);
  assert.equal(del.filter((q) => /^\/v2\/droplets\/\d+$/.test(q.path)).length, 3);
  assert.equal(del.filter((q) => /^\/v2\/firewalls\/[0-9a-f-]{36}$/.test(q.path)).length, 1);
  assert.deepEqual(h.sim.firewallList(), []);
  assert.deepEqual(h.sim.dropletNames(), ['unrelated']);
  assert.equal(await readFile(join(h.dir, 'known_hosts'), 'utf8'), '');
  assert.deepEqual(await readdir(join(h.dir, '.kubewright', 'demo', 'hostkeys')), []);
  await assert.rejects(stat(join(h.dir, '.kubewright', 'demo', 'digitalocean.json')));
});

test('a spec value the API rejects exits 2 naming the field', async () => {
  const text = (await readFile(spec, 'utf8')).replace('region: fra1', 'region: mars1');
  const bad = join(h.dir, 'bad-region.yaml');
  await writeFile(bad, text.replace('name: demo', 'name: badregion'));
  const r = await cli('provision', '-f', bad, '--token-file', tokenFile, ...api());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /POST \/v2\/droplets: request rejected \(422 unprocessable_entity\): field region: Region is not available/);
});

test('the canary token appears in no output, no file kubewright wrote and no proxy log', async () => {
  assert.ok(seen.length >= 7);
  for (const r of seen) {
    assert.ok(!r.stdout.includes(canaryToken), 'stdout');
    assert.ok(!r.stderr.includes(canaryToken), 'stderr');
    assert.ok(!r.stdout.includes('CANARY') && !r.stderr.includes('CANARY'), 'no part of the token either');
  }
  const files = await listFiles(h.dir);
  assert.ok(files.some((f) => f.endsWith('known_hosts')));
  for (const f of files) {
    if (f === tokenFile || f.endsWith('wrong-token')) continue;
    assert.ok(!(await readFile(f, 'utf8')).includes('CANARY'), f);
  }
  assert.ok(!h.prism.log().includes('CANARY'), 'prism log');
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

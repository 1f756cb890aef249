// Ensuring workers against the DigitalOcean simulator (test double) through Prism, which fails
// any request or response that breaks the OpenAPI contract.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import ssh2 from 'ssh2';
import { parse as parseYaml } from 'yaml';
import { isKubewrightError } from '../../src/errors.ts';
import { listEtcdEndpoints } from '../../src/providers/digitalocean/etcd-endpoints.ts';
import { planWorkers } from '../../src/providers/digitalocean/plan-workers.ts';
import { ensureWorkers, type WorkerPoolSpec } from '../../src/providers/digitalocean/ensure-workers.ts';
import { DigitalOceanApiError } from '../../src/providers/digitalocean/errors.ts';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import { sshKeyFingerprint } from '../../src/providers/digitalocean/ssh-keys.ts';
import { DigitalOceanClient } from '../../src/providers/digitalocean/api-client.ts';
import { freePort } from '../support/free-port.ts';
import { canaryToken, startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.sim.reset({ maxPageSize: 200, limitPerMinute: 250 });
  h.calls.length = 0;
});

const pool: WorkerPoolSpec = {
  region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['k8s-worker'], vpcUuid: null, domain: 'example.com', namePattern: 'k8s-worker-{index}.{domain}',
};

function assertExactly(names: string[], n: number): void {
  const expected = Array.from({ length: n }, (_, i) => `k8s-worker-${i}.example.com`).sort();
  assert.deepEqual(names.sort(), expected, `want exactly ${n} droplets and no duplicates`);
}

for (const n of [1, 10, 25, 100]) {
  test(`ensuring ${n} workers makes at most ceil(${n}/10) create calls and a rerun makes no POST`, async () => {
    const client = h.client();
    const slept = h.clock.slept;
    const first = await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock: h.clock });
    const c1 = h.sim.counts();
    console.log(`ensure N=${n}: ${c1.total} API calls (${c1.creates} creates, ${c1.lists} list-by-tag), simulated wait ${Math.round((h.clock.slept - slept) / 1000)} s`);
    assert.ok(c1.creates <= Math.ceil(n / 10), `creates ${c1.creates} > ceil(${n}/10)`);
    assert.equal(first.created.length, n);
    assert.equal(first.workers.length, n);
    for (const w of first.workers) {
      assert.match(w.publicAddress, /^\d+\.\d+\.\d+\.\d+$/);
      assert.match(w.privateAddress ?? '', /^10\./);
    }
    for (const r of h.sim.requests.filter((r) => r.method === 'POST')) assert.ok(((r.body as { names: string[] }).names.length) <= 10);
    assertExactly(h.sim.dropletNames(), n);

    h.sim.resetCounts();
    const again = await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock: h.clock });
    const c2 = h.sim.counts();
    console.log(`rerun N=${n}: ${c2.total} API calls, ${c2.posts} POSTs`);
    assert.equal(c2.posts, 0);
    assert.equal(c2.total, 1, 'a rerun with every worker active is one list-by-tag call');
    assert.equal(again.created.length, 0);
    assertExactly(h.sim.dropletNames(), n);
  });
}

test('lists follow links.pages.next until the last page', async () => {
  h.sim.reset({ maxPageSize: 7 });
  const client = h.client();
  const r = await ensureWorkers({ client, pool, count: 25, sshKeys: ['3b:16'], clock: h.clock });
  assert.equal(r.workers.length, 25);
  const pages = h.sim.requests.filter((q) => q.method === 'GET' && q.path === '/v2/droplets').map((q) => q.query['page'] ?? '1');
  assert.ok(pages.includes('4'), `expected a 4th page of 7 (got pages ${[...new Set(pages)].join(',')})`);
  // every listing asks for full pages; the droplet-limit check's account-wide count asks for one droplet (it reads meta.total)
  const listings = h.sim.requests.filter((x) => x.method === 'GET' && x.path === '/v2/droplets' && x.query['tag_name'] !== undefined);
  for (const q of listings) assert.equal(q.query['per_page'], '200');
  assert.deepEqual(h.sim.requests.filter((x) => x.method === 'GET' && x.query['tag_name'] === undefined).map((x) => `${x.path}?per_page=${x.query['per_page'] ?? ''}`), ['/v2/account?per_page=', '/v2/droplets?per_page=1']);
  assertExactly(h.sim.dropletNames(), 25);
});

test('a smaller count keeps the extra workers unless prune is asked, then removes the highest index first', async () => {
  const client = h.client();
  await ensureWorkers({ client, pool, count: 5, sshKeys: ['3b:16'], clock: h.clock });
  const kept = await ensureWorkers({ client, pool, count: 3, sshKeys: ['3b:16'], clock: h.clock });
  assert.deepEqual(kept.extras, ['k8s-worker-4.example.com', 'k8s-worker-3.example.com']);
  assert.equal(h.sim.dropletNames().length, 5);
  h.sim.resetCounts();
  const pruned = await ensureWorkers({ client, pool, count: 3, sshKeys: ['3b:16'], clock: h.clock, prune: true });
  assert.deepEqual(pruned.pruned, ['k8s-worker-4.example.com', 'k8s-worker-3.example.com']);
  const deletes = h.sim.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
  assert.equal(deletes.length, 2);
  assertExactly(h.sim.dropletNames(), 3);
});

test('a plan lists what ensure would create and which extras prune would delete, making no change', async () => {
  const client = h.client();
  await ensureWorkers({ client, pool, count: 4, sshKeys: ['3b:16'], clock: h.clock });
  h.sim.resetCounts();
  const plan = await planWorkers(client, pool, 2);
  assert.deepEqual(plan, { existing: ['k8s-worker-0.example.com', 'k8s-worker-1.example.com'], toCreate: [], extras: ['k8s-worker-3.example.com', 'k8s-worker-2.example.com'], createCalls: 0 });
  const grow = await planWorkers(client, pool, 25);
  assert.equal(grow.toCreate.length, 21);
  assert.equal(grow.toCreate[0], 'k8s-worker-4.example.com');
  assert.equal(grow.createCalls, 3);
  assert.equal(h.sim.counts().posts, 0);
  assert.equal(h.sim.requests.filter((r) => r.method !== 'GET').length, 0);
});

test('etcd discovery lists the etcd tag and returns https://<private ip>:2379, sorted', async () => {
  h.sim.seed({ name: 'etcd-2', tags: ['k8s-etcd'] });
  h.sim.seed({ name: 'etcd-1', tags: ['k8s-etcd'] });
  h.sim.seed({ name: 'not-etcd', tags: ['other'] });
  const endpoints = await listEtcdEndpoints(h.client(), 'k8s-etcd');
  assert.equal(endpoints.length, 2);
  for (const e of endpoints) assert.match(e, /^https:\/\/10\.\d+\.\d+\.\d+:2379$/);
  assert.deepEqual([...endpoints].sort(), endpoints);
});

test('a wrong token is reported as "token rejected" with exit code 2 and without the token', async () => {
  const wrong = `${canaryToken}-wrong`;
  const client = new DigitalOceanClient({ token: wrong, baseUrl: h.prism.url, clock: h.clock });
  const err = await ensureWorkers({ client, pool, count: 1, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
  assert.ok(err instanceof DigitalOceanApiError);
  assert.match(err.message, /token rejected/);
  assert.equal(err.exitCode, 2);
  assert.ok(!err.describe().includes(wrong) && !err.describe().includes(canaryToken));
});

test('a 422 names the rejected field', async () => {
  const err = await ensureWorkers({ client: h.client(), pool: { ...pool, region: 'mars1' }, count: 2, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
  assert.ok(err instanceof DigitalOceanApiError, String(err));
  assert.equal(err.status, 422);
  assert.equal(err.field, 'region');
  assert.match(err.describe(), /field region/);
  assert.equal(h.sim.dropletNames().length, 0);
});

test('the provider pins each new droplet\'s own host key from user_data in known_hosts', async () => {
  const cluster = await h.cluster(12);
  const provider = new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock });
  const { hosts } = await provider.ensure();
  assert.equal(hosts.length, 12);
  const known = await readFile(join(h.dir, 'known_hosts'), 'utf8');
  const lines = known.trim().split('\n');
  assert.equal(lines.length, 12);
  for (const host of hosts) {
    const keyFile = join(h.dir, '.kubewright', 'demo', 'hostkeys', host.name);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const pub = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
    const line = lines.find((l) => l.startsWith(`${host.name},`));
    assert.equal(line, `${host.name},${host.publicAddress},${host.privateAddress} ${pub}`);
    // the cloud-config this droplet sees (its branch of the batch's Jinja template) installs exactly that key
    const created = h.sim.dropletsByName(host.name);
    assert.equal(created.length, 1);
    const cfg = cloudConfigFor(created[0]?.userData ?? '', host.name);
    assert.equal(cfg.ssh_keys.ed25519_public, pub);
    const priv = ssh2.utils.parseKey(cfg.ssh_keys.ed25519_private);
    assert.ok(!(priv instanceof Error), 'the private key in user_data parses');
    const privKey = Array.isArray(priv) ? priv[0] : priv;
    assert.equal(`ssh-ed25519 ${privKey?.getPublicSSH().toString('base64')}`, pub);
    assert.equal(cfg.ssh_keys.ed25519_private, await readFile(keyFile, 'utf8'));
  }
  const state = JSON.parse(await readFile(join(h.dir, '.kubewright', 'demo', 'digitalocean.json'), 'utf8')) as { hosts: { hostKeyPinned: boolean }[] };
  assert.equal(state.hosts.length, 12);
  assert.ok(state.hosts.every((x) => x.hostKeyPinned));

  // hosts() reports the same hosts without creating anything
  h.sim.resetCounts();
  assert.deepEqual(await provider.hosts(), hosts);
  assert.equal(h.sim.counts().posts, 0);
  // a rerun keeps the keys and known_hosts as they are
  await provider.ensure();
  assert.equal(await readFile(join(h.dir, 'known_hosts'), 'utf8'), known);
});

test('without spec sshKeys the public key is uploaded once, and found by fingerprint afterwards', async () => {
  const pubFile = join(h.dir, 'id_test.pub');
  const pair = ssh2.utils.generateKeyPairSync('ed25519');
  await import('node:fs/promises').then((fs) => fs.writeFile(pubFile, `${pair.public} me@laptop\n`));
  const cluster = await h.cluster(2, {
    name: 'upload',
    provider: '  digitalocean: { region: fra1, tags: [k8s-worker], domain: example.com }',
    ssh: `ssh: { publicKeyPath: ${pubFile}, knownHostsPath: ./known_hosts_upload }`,
  });
  const provider = new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock });
  await provider.ensure();
  assert.equal(h.sim.accountKeys().length, 1);
  const fp = sshKeyFingerprint(pair.public);
  assert.equal(h.sim.accountKeys()[0]?.fingerprint, fp);
  for (const d of h.sim.dropletsByName('k8s-worker-0.example.com')) assert.deepEqual(d.sshKeys, [fp]);
  await provider.ensure();
  assert.equal(h.sim.accountKeys().length, 1);
  assert.equal(h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/v2/account/keys').length, 1);
  assert.equal(h.sim.requests.filter((r) => r.method === 'GET' && r.path === '/v2/account/keys').length, 1, 'keys are looked up only when creating');
  // a new worker later: the uploaded key is found by fingerprint, not uploaded again
  const bigger = await h.cluster(3, {
    name: 'upload',
    provider: '  digitalocean: { region: fra1, tags: [k8s-worker], domain: example.com }',
    ssh: `ssh: { publicKeyPath: ${pubFile}, knownHostsPath: ./known_hosts_upload }`,
  });
  await new DigitalOceanProvider({ cluster: bigger, client: h.client(), clock: h.clock }).ensure();
  assert.equal(h.sim.accountKeys().length, 1);
  assert.equal(h.sim.requests.filter((r) => r.method === 'GET' && r.path === '/v2/account/keys').length, 2);
  assert.deepEqual(h.sim.dropletsByName('k8s-worker-2.example.com')[0]?.sshKeys, [fp]);
});

test('errors are KubewrightErrors that never carry the token', async () => {
  h.sim.inject({ kind: '500', count: 100 });
  const err = await ensureWorkers({ client: h.client({ maxAttempts: 3 }), pool, count: 1, sshKeys: ['3b:16'], clock: h.clock }).catch((e: unknown) => e);
  assert.ok(isKubewrightError(err));
  assert.match(err.describe(), /gave up after 3 attempts/);
  assert.ok(!JSON.stringify({ m: err.message, h: err.hint, c: String(err.cause) }).includes(canaryToken));
});

/** The cloud-config a droplet named `name` gets: its branch of the Jinja template, parsed as YAML. */
function cloudConfigFor(userData: string, name: string): { ssh_keys: { ed25519_private: string; ed25519_public: string } } {
  const out: string[] = [];
  let inBranch: boolean | undefined;
  for (const line of userData.split('\n')) {
    const m = /^\{% (?:if|elif) v1\.local_hostname == '([^']+)'/.exec(line);
    if (m) {
      inBranch = m[1] === name;
      continue;
    }
    if (line.startsWith('{% endif')) {
      inBranch = undefined;
      continue;
    }
    if (line.startsWith('## template')) continue;
    if (inBranch === undefined || inBranch) out.push(line);
  }
  assert.equal(out[0], '#cloud-config');
  return parseYaml(out.join('\n')) as { ssh_keys: { ed25519_private: string; ed25519_public: string } };
}

/** ssh exits 0 only when the server's host key matches known_hosts (StrictHostKeyChecking=yes). */
function sshOnce(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stderr }));
  });
}

test('OpenSSH connects to a host serving the pinned key with strict checking, and refuses another key', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/sshd')) return t.skip('needs root and openssh-server');
  const port = await freePort();
  const cluster = await h.cluster(1, { name: 'sshcheck', ssh: `ssh: { port: ${port}, knownHostsPath: ./known_hosts_ssh }` });
  await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).ensure();
  const name = 'k8s-worker-0.example.com';
  const known = join(h.dir, 'known_hosts_ssh');
  assert.match(await readFile(known, 'utf8'), new RegExp(`^\\[${name.replaceAll('.', '\\.')}\\]:${port},`));

  const d = join(h.dir, 'sshd');
  await mkdir(d, { recursive: true });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKey = ssh2.utils.generateKeyPairSync('ed25519');
  await writeFile(join(d, 'id'), clientKey.private, { mode: 0o600 });
  await writeFile(join(d, 'authorized_keys'), `${clientKey.public}\n`);
  const other = ssh2.utils.generateKeyPairSync('ed25519');
  await writeFile(join(d, 'other_host_key'), other.private, { mode: 0o600 });
  const serve = async (hostKey: string): Promise<{ code: number | null; stderr: string }> => {
    const conf = join(d, 'sshd_config');
    await writeFile(conf, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${join(d, 'sshd.pid')}`, `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
      'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', '',
    ].join('\n'));
    const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sshdLog = '';
    sshd.stderr?.on('data', (c: Buffer) => (sshdLog += c.toString()));
    try {
      // the sshd stands in for the droplet on loopback: HostKeyAlias makes ssh look the key up under the
      // droplet's known_hosts name (used verbatim, so in the `[name]:port` form of a non-22 port)
      const args = ['-F', '/dev/null', '-p', String(port), '-i', join(d, 'id'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5',
        '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${known}`, '-o', `HostKeyAlias=[${name}]:${port}`, 'root@127.0.0.1', 'true'];
      let r = await sshOnce(args);
      // sshd needs a moment to listen; on a loaded 2-core machine that can take seconds (bounded: 30 s)
      for (let i = 0; i < 300 && /Connection refused/.test(r.stderr) && sshd.exitCode === null; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await sshOnce(args);
      }
      if (/Connection refused/.test(r.stderr)) assert.fail(`sshd never listened on ${port}: ${sshdLog || '(no log)'}`);
      return r;
    } finally {
      sshd.kill('SIGTERM');
      await new Promise((res) => (sshd.exitCode !== null ? res(null) : sshd.once('exit', res)));
    }
  };
  const good = await serve(join(h.dir, '.kubewright', 'sshcheck', 'hostkeys', name));
  assert.equal(good.code, 0, good.stderr);
  const bad = await serve(join(d, 'other_host_key'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});

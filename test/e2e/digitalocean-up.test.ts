// `kubewright up` end to end against the DigitalOcean simulator (TEST DOUBLE, behind Prism with
// the OpenAPI contract), with static-host SSH endpoints standing in for droplets: each droplet the
// simulator creates boots as a real OpenSSH server on its public IPv4 (127.a.b.2x, loopback) at
// ssh.port, with the host key kubewright injected through user_data, confined to a fake root
// (systemctl there is a TEST DOUBLE). etcd is real (TLS, certificates from kubewright's CA) and
// found the way nodes find it: a droplet tagged etcd.discovery.digitaloceanTag whose private IPv4
// (127.a.b.30) is where etcd listens. When kubewright starts a unit on a node (recorded by the
// systemctl double), the test runs what systemd would: the node's own rendered etcd-lookup for
// real against the simulator (read-only token), a stand-in flanneld (TEST DOUBLE: etcdctl with the
// node's flannel certificates, to the members etcd-lookup found) and the stand-in kubelet (TEST
// DOUBLE, test/support/stand-in-kubelet.sh) with the kubeconfig the rendered unit names, against
// the Kubernetes API TEST DOUBLE — so up's verify passes on what kubewright's own steps produced.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readClusterCa, readEtcdCa } from '../../src/pki/cluster-ca.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { generateHostKey, hostKeyCloudConfig } from '../../src/providers/digitalocean/host-keys.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { canaryToken } from '../providers/do-harness.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { DigitalOceanSimulator } from '../support/do-simulator.ts';
import { KubeApiDouble } from '../support/kube-api-double.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { startPrismProxy, type PrismProxy } from '../support/prism.ts';
import { startTlsFront, type TlsFront } from '../support/tls-front.ts';
import { runConfined } from '../support/fake-root.ts';
import { bootDropletHost, portFreeOn, startedUnits, stopDropletHost, type DropletHost } from './digitalocean-droplet-hosts.ts';
import { startE2eEtcd, type E2eEtcd } from './digitalocean-etcd.ts';
import { TEST_PREFLIGHT } from '../support/lab-spec.ts';

const run = promisify(execFile);
const standInKubelet = join(import.meta.dirname, '../support/stand-in-kubelet.sh');

const workers = 3;
const domain = 'e2e.example.com';
const workerTag = 'k8s-worker';
const etcdTag = 'k8s-etcd';
const version = '1.36.2';
const prefix = '/flannel.com/network';
const workerName = (i: number): string => `k8s-worker-${i}.${domain}`;
// a loopback block of this run's own: the whole suite may run more than once at a time on one
// machine, and etcd must listen on the fixed port 2379 that DigitalOcean discovery assumes
const block = `127.${64 + randomInt(128)}.${randomInt(1, 255)}`;
const publicIp = (i: number): string => `${block}.${21 + i}`;
const privateIp = (i: number): string => `10.135.33.${21 + i}`;
const etcdIp = `${block}.30`;
/** the read-only token placed on nodes: it must reach /etc/flannel/do-token and nothing else */
const lookupCanary = 'dop_v1_LOOKUPCANARY7d1e5a3c9b0f2e4d6a8c1b3e5f7a9c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a1';

let dir: string;
let specFile: string;
let tokenFile: string;
let lookupFile: string;
let knownHostsPath: string;
let sim: DigitalOceanSimulator;
let prism: PrismProxy | undefined;
/** https in front of Prism, for the nodes' etcd-lookup (it sends its token over https only) */
let apiTls: TlsFront | undefined;
let api: KubeApiDouble | undefined;
let etcd: E2eEtcd | undefined;
let sshPort: number;
const booted = new Map<string, DropletHost>();
const booting = new Set<string>();
/** per node: what the test ran for the units kubewright started there (see runStartedUnits) */
interface NodeAgents {
  lookup?: 'running' | 'done';
  lookupLog?: string;
  lease?: 'writing' | 'done';
  kubelet?: ChildProcess;
  stderr: string[];
}
const nodes = new Map<string, NodeAgents>();
const watchErrors: string[] = [];
/** when each droplet booted and what ran for its started units (ms since load), shown when up fails */
const timeline: string[] = [];
const t0 = Date.now();
const outputs: CliResult[] = [];
let watching = true;
/** how long a droplet's sshd takes to come up after its create (the last test models a slow boot) */
let bootDelayMs = 0;
let watcher: Promise<void> = Promise.resolve();

const escapeRe = (t: string): string => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const indexOf = (name: string): number => Number(/^k8s-worker-(\d+)\./.exec(name)?.[1] ?? -1);
const rootOf = (name: string): string => join(dir, 'droplets', name, 'root');

/**
 * What systemd would run on the node once kubewright starts a unit there (the systemctl TEST
 * DOUBLE only records the start): etcd-lookup.service → the node's own rendered
 * /usr/local/bin/etcd-lookup, run for real against the simulator (through Prism) with the
 * read-only token kubewright placed; flanneld.service → a STAND-IN flanneld that writes the node's
 * subnet lease to the etcd members etcd-lookup wrote, with the node's own flannel certificates;
 * kubelet.service → the STAND-IN kubelet with the kubeconfig the rendered unit's ExecStart names.
 */
async function runStartedUnits(h: DropletHost): Promise<void> {
  const i = indexOf(h.name);
  const r = (p: string): string => join(h.root, p);
  const node = nodes.get(h.name) ?? { stderr: [] };
  nodes.set(h.name, node);
  const started = await startedUnits(h);

  if (started.has('etcd-lookup.service') && !node.lookup) {
    node.lookup = 'running';
    // as systemd would: in the node's root, at the script's own paths (test/support/fake-root.ts)
    const ca = join(h.dir, 'api-ca.pem');
    await copyFile(join(dir, 'pki', 'ca.pem'), ca);
    const out = await runConfined(h.root, h.dir, '/bin/sh /usr/local/bin/etcd-lookup', {
      PATH: '/usr/local/bin:/usr/bin:/bin', DIGITALOCEAN_API_URL: apiTls!.url, CURL_CA_BUNDLE: ca, ETCD_LOOKUP_ATTEMPTS: '10', ETCD_LOOKUP_RETRY_SECONDS: '1',
    });
    if (out.code !== 0) throw new Error(`etcd-lookup failed: ${out.stderr}`);
    node.lookupLog = out.stderr;
    node.lookup = 'done';
    timeline.push(`${Date.now() - t0} etcd-lookup ${h.name}`);
  }

  if (started.has('flanneld.service') && node.lookup === 'done' && !node.lease) {
    node.lease = 'writing';
    // flanneld's EnvironmentFile, as etcd-lookup wrote it
    const members = /^ETCD_MEMBERS=(\S+)$/m.exec(await readFile(r('etc/flannel/etcd-members'), 'utf8'))?.[1];
    if (!members) throw new Error('etcd-lookup wrote no ETCD_MEMBERS');
    const lease = JSON.stringify({ PublicIP: privateIp(i), PublicIPv6: null, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '0a:58:0a:c8:00:01' } });
    await run('etcdctl', ['--endpoints', members, '--cacert', r('etc/flannel/etcd-ca.pem'), '--cert', r('etc/flannel/etcd-client.pem'), '--key', r('etc/flannel/etcd-client-key.pem'), '--dial-timeout', '3s', 'put', `${prefix}/subnets/10.200.${i + 1}.0-24`, lease], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 20_000,
    });
    node.lease = 'done';
    timeline.push(`${Date.now() - t0} lease ${h.name}`);
  }

  if (started.has('kubelet.service') && !node.kubelet) {
    // the kubeconfig the rendered unit's ExecStart names; seen from the node, /etc/kubernetes/ is in its root
    const unit = await readFile(r('etc/systemd/system/kubelet.service'), 'utf8');
    const named = /--kubeconfig=(\S+)/.exec(unit)?.[1];
    if (!named) throw new Error('the rendered kubelet.service names no --kubeconfig');
    const kubeconfig = join(h.dir, 'kubelet.kubeconfig');
    await writeFile(kubeconfig, (await readFile(join(h.root, named), 'utf8')).replaceAll(' /etc/kubernetes/', ` ${h.root}/etc/kubernetes/`), { mode: 0o600 });
    node.kubelet = spawn('sh', [standInKubelet, '--kubeconfig', kubeconfig, '--node-name', h.name, '--kubelet-version', `v${version}`, '--interval', '1', '--max-beats', '300', '--address', privateIp(i)], { stdio: ['ignore', 'ignore', 'pipe'] });
    node.kubelet.stderr?.on('data', (b: Buffer) => node.stderr.push(b.toString()));
    timeline.push(`${Date.now() - t0} kubelet ${h.name}`);
  }
}

/** Boots each new worker droplet the simulator holds (cloud-init + sshd), then runs the units kubewright starts there. */
async function watchDroplets(): Promise<void> {
  // bounded by the test's life: stopped in after(); each round is quick
  while (watching) {
    const work: Promise<void>[] = [];
    for (const name of sim.dropletNames()) {
      if (indexOf(name) < 0 || booted.has(name) || booting.has(name)) continue;
      const d = sim.dropletsByName(name)[0];
      if (!d?.userData) continue;
      booting.add(name);
      const keys = sim.accountKeys().filter((k) => d.sshKeys.includes(k.id) || d.sshKeys.includes(k.fingerprint)).map((k) => k.public_key);
      timeline.push(`${Date.now() - t0} boot ${name}`);
      work.push(
        new Promise((r) => setTimeout(r, bootDelayMs)).then(() => bootDropletHost(join(dir, 'droplets'), { name, address: publicIp(indexOf(name)), port: sshPort, userData: d.userData!, authorizedKeys: keys })).then(
          (h) => {
            booted.set(name, h);
            // a droplet turns active only once every worker's sshd is up, as a real one does after boot
            if (Array.from({ length: workers }, (_, i) => workerName(i)).every((n) => booted.has(n))) sim.opts.activateAfterMs = 0;
          },
          (e: unknown) => void watchErrors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`),
        ),
      );
    }
    for (const h of booted.values()) {
      const n = nodes.get(h.name);
      if (n?.lookup === 'done' && n.lease === 'done' && n.kubelet) continue;
      work.push(runStartedUnits(h).catch((e: unknown) => void watchErrors.push(`${h.name} units: ${e instanceof Error ? e.message : String(e)}`)));
    }
    await Promise.all(work);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function cli(...args: string[]): Promise<CliResult> {
  const r = await runCli(...args);
  outputs.push(r);
  return r;
}

const upArgs = (): string[] => ['up', '-f', specFile, '--token-file', tokenFile, '--api-url', prism!.url, '--lookup-token-file', lookupFile, '--wait', '60s'];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-e2e-do-'));
  const ids = new Map<number, number>();
  sim = new DigitalOceanSimulator({
    token: canaryToken,
    // the nodes' etcd-lookup token: read scope only, as the docs tell users to create it
    readOnlyTokens: [lookupCanary],
    // new droplets stay `new` until the watcher has booted their sshds (then it sets this to 0)
    activateAfterMs: 3_600_000,
    addresses: (d) => {
      if (d.tags.includes(etcdTag)) return { privateV4: etcdIp, publicV4: '198.18.33.30' };
      const i = indexOf(d.name);
      if (i >= 0) return { publicV4: publicIp(i), privateV4: privateIp(i) };
      if (!ids.has(d.id)) ids.set(d.id, ids.size);
      return { publicV4: `198.18.34.${ids.get(d.id)}`, privateV4: `10.135.34.${ids.get(d.id)}` };
    },
  });
  await sim.start();
  prism = await startPrismProxy(sim.url);
  // the existing etcd "droplet" the nodes' etcd-lookup (and kubewright) find by tag
  sim.seed({ name: 'etcd-0', tags: [etcdTag] });

  tokenFile = join(dir, 'do-token');
  lookupFile = join(dir, 'do-lookup-token');
  await writeFile(tokenFile, `${canaryToken}\n`, { mode: 0o600 });
  await writeFile(lookupFile, `${lookupCanary}\n`, { mode: 0o600 });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kubewright-e2e', '-f', join(dir, 'id_ed25519')]);
  sshPort = await portFreeOn(Array.from({ length: workers }, (_, i) => publicIp(i)));
  const apiPort = await portFreeOn(['127.0.0.1']);
  const etcdPeerPort = await portFreeOn([etcdIp]);
  knownHostsPath = join(dir, 'known_hosts');
  specFile = join(dir, 'cluster.yaml');
  const spec = (pins: Record<string, string>): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: e2e-do }
profile: modern
kubernetes: { version: "${version}", apiServer: "https://127.0.0.1:${apiPort}", clusterDNS: 10.32.0.10 }
provider:
  digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [${workerTag}], domain: ${domain} }
workers: { count: ${workers} }
etcd: { discovery: { digitaloceanTag: ${etcdTag} }, prefix: ${prefix} }
pki: { dir: ./pki }
ssh: { user: root, port: ${sshPort}, privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
artifacts:
  mirror: ./mirror
  checksums:
${Object.entries(pins).map(([u, s]) => `    "${u}": ${s}`).join('\n') || '    {}'}
${TEST_PREFLIGHT}
`;
  await writeFile(specFile, spec({}));
  const cluster = parseCluster(spec({}), specFile);
  const binaries = renderCluster({ cluster, hosts: plannedHosts(cluster) }).hosts.values().next().value!.binaries;
  const mirror = await buildArtifactMirror(join(dir, 'mirror'), binaries);
  await writeFile(specFile, spec(mirror.pins));

  // the operator's CAs exist before the cluster: the cluster CA signs the API server's certificate, the etcd CA etcd's
  const init = await cli('pki', 'init', '-f', specFile);
  assert.equal(init.code, 0, init.stderr);
  const ca = await readClusterCa(join(dir, 'pki'));
  assert.ok(ca);
  const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: ['127.0.0.1'] });
  apiTls = await startTlsFront(prism.url, await issueCertificate(ca, { CN: 'api.digitalocean.test', hosts: ['127.0.0.1'] }));
  api = new KubeApiDouble({ caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, port: apiPort, gitVersion: `v${version}`, authorization: 'node', staleAfterMs: heartbeatStaleAfterMs });
  await api.start();
  // etcd's own CA (a new PKI gets one) signs etcd's serving certificate, as flannel's client certificate
  const etcdCa = await readEtcdCa(join(dir, 'pki'));
  assert.ok(etcdCa, 'pki init made an etcd CA');
  etcd = await startE2eEtcd(join(dir, 'etcd'), etcdIp, etcdCa, etcdPeerPort);

  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
  watcher = watchDroplets();
});

after(async () => {
  watching = false;
  await watcher;
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  for (const n of nodes.values()) if (n.kubelet?.exitCode === null) n.kubelet.kill('SIGTERM');
  await Promise.all([...booted.values()].map((h) => stopDropletHost(h)));
  await etcd?.stop();
  await api?.stop();
  await apiTls?.stop();
  await prism?.stop();
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('up creates the droplets in one call, trusts their injected host keys from birth, and verify passes', { timeout: 240_000 }, async () => {
  const r = await cli(...upArgs());
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\nwatcher errors: ${watchErrors.join('\n')}\ntimeline (ms): ${timeline.join(', ')}\nkubelets: ${[...nodes.values()].map((n) => n.stderr.join('')).join('')}`);
  assert.deepEqual(watchErrors, []);
  for (const step of ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify']) assert.match(r.stdout, new RegExp(`^\\[\\d/9\\] ${step}: `, 'm'));

  const counts = sim.counts();
  console.log(`first up: ${counts.total} DigitalOcean API calls, ${counts.creates} droplet create(s): ${JSON.stringify(counts.byRoute)}`);
  assert.ok(counts.creates <= Math.ceil(workers / 10), `${counts.creates} creates`);
  assert.deepEqual(sim.dropletNames(), ['etcd-0', ...Array.from({ length: workers }, (_, i) => workerName(i))].sort());

  // SSH trust from birth: the first connection was verified with the key sent in user_data (the one
  // the sshd booted with); then that key was rotated: known_hosts pins only the key generated on the host
  const known = await readFile(knownHostsPath, 'utf8');
  for (let i = 0; i < workers; i++) {
    const h = booted.get(workerName(i));
    assert.ok(h, `${workerName(i)} booted`);
    const onHost = (await readFile(join(rootOf(workerName(i)), 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    assert.notEqual(onHost, h.hostPublicKey, 'rotated away from the user_data key');
    assert.match(known, new RegExp(`^\\S*${escapeRe(`[${publicIp(i)}]:${sshPort}`)}\\S* ${escapeRe(onHost)}$`, 'm'));
    assert.ok(!known.includes(h.hostPublicKey), 'the user_data key is no longer pinned');
    // the key kubewright generated (hostkeys/) is the one the droplet got
    assert.equal((await readFile(join(dir, '.kubewright', 'e2e-do', 'hostkeys', `${workerName(i)}.pub`), 'utf8')).trim(), h.hostPublicKey);
    assert.match(await readFile(h.logFile, 'utf8'), /Accepted publickey for root/);
  }

  // apply reached every droplet: units on disk, the read-only lookup token at 0600, etcd lookup by tag
  for (let i = 0; i < workers; i++) {
    const root = rootOf(workerName(i));
    assert.match(await readFile(join(root, 'etc/systemd/system/kubelet.service'), 'utf8'), /ExecStart=\/usr\/local\/bin\/kubelet/);
    assert.equal(await readFile(join(root, 'etc/flannel/do-token'), 'utf8'), `${lookupCanary}\n`);
    assert.equal((await stat(join(root, 'etc/flannel/do-token'))).mode & 0o777, 0o600);
  }
  // apply listed etcd by its tag once, with the read-only token, through --api-url (not the default
  // API), and wrote the members file on every node; each node's etcd-lookup then found it fresh and
  // asked no API
  for (let i = 0; i < workers; i++) {
    assert.equal(await readFile(join(rootOf(workerName(i)), 'etc/flannel/etcd-members'), 'utf8'), `ETCD_MEMBERS=https://${etcdIp}:2379\n`);
  }
  const lookups = sim.requests.filter((q) => q.readOnly);
  assert.equal(lookups.length, 1, `${lookups.length} read-only requests: ${JSON.stringify(lookups)}`);
  assert.ok(lookups.every((q) => q.method === 'GET' && q.path === '/v2/droplets' && q.query['tag_name'] === etcdTag && q.status === 200), JSON.stringify(lookups));
  // each node registered as itself (node authorizer), with its own certificate from its root
  for (let i = 0; i < workers; i++) assert.deepEqual(api!.nodeWriters(workerName(i)), [`system:node:${workerName(i)}`]);
  const config = await run('etcdctl', ['--endpoints', etcd!.endpoint, '--cacert', join(dir, 'pki/etcd-ca.pem'), '--cert', join(dir, 'pki/etcd-client.pem'), '--key', join(dir, 'pki/etcd-client-key.pem'), 'get', `${prefix}/config`, '--print-value-only'], { env: { ...process.env, ETCDCTL_API: '3' } });
  assert.match(config.stdout, /"Network":\s*"10\.200\.0\.0\/16"/);
});

test('a second up makes no POST to DigitalOcean and changes nothing on the droplets', { timeout: 120_000 }, async () => {
  sim.resetCounts();
  const calls = new Map<string, number>();
  for (const h of booted.values()) calls.set(h.name, (await readFile(join(h.systemdDir, 'calls.log'), 'utf8')).split('\n').filter((l) => /^(start|restart|enable) /.test(l)).length);
  const digest = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');
  const kubeletConfigBefore = await digest(join(rootOf(workerName(0)), 'var/lib/kubelet/config.yaml'));
  const knownBefore = await readFile(knownHostsPath, 'utf8');

  const r = await cli(...upArgs(), '--output', 'json');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const result = JSON.parse(r.stdout) as { ok: boolean; provision: { created: string[] }; pki: { issued: unknown[] }; etcd: { action: string }; hosts: { name: string; status: string; actions: number }[]; dns: { action: string }[] };
  assert.equal(result.ok, true);
  assert.deepEqual(result.provision.created, []);
  assert.deepEqual(result.pki.issued, []);
  assert.equal(result.etcd.action, 'unchanged');
  assert.deepEqual(result.hosts.map((h) => [h.name, h.status, h.actions]), Array.from({ length: workers }, (_, i) => [workerName(i), 'unchanged', 0]));
  assert.ok(result.dns.every((o) => o.action === 'unchanged'), JSON.stringify(result.dns));

  const counts = sim.counts();
  console.log(`second up: ${counts.total} DigitalOcean API calls: ${JSON.stringify(counts.byRoute)}`);
  assert.equal(counts.posts, 0);
  for (const h of booted.values()) {
    const n = (await readFile(join(h.systemdDir, 'calls.log'), 'utf8')).split('\n').filter((l) => /^(start|restart|enable) /.test(l)).length;
    assert.equal(n, calls.get(h.name), `${h.name}: no unit started, restarted or enabled`);
  }
  assert.equal(await digest(join(rootOf(workerName(0)), 'var/lib/kubelet/config.yaml')), kubeletConfigBefore);
  assert.equal(await readFile(knownHostsPath, 'utf8'), knownBefore);
});

test('a droplet that serves another host key is refused before logging in: SSH trust is strict', { timeout: 120_000 }, async () => {
  const a = booted.get(workerName(0))!;
  const known = await readFile(knownHostsPath, 'utf8');
  // the droplet's address now answers with a key kubewright never issued (a man in the middle,
  // or a droplet rebuilt behind kubewright's back)
  await stopDropletHost(a);
  const impostor = await bootDropletHost(join(dir, 'impostor'), { name: a.name, address: a.address, port: sshPort, userData: hostKeyCloudConfig([generateHostKey(a.name)]), authorizedKeys: [await readFile(join(dir, 'id_ed25519.pub'), 'utf8')] });
  try {
    const r = await cli(...upArgs(), '--skip-verify');
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${escapeRe(a.name)}: connect: failed: .*host key`));
    assert.match(r.stderr, /apply failed on 1 of 3 host\(s\)/);
    assert.doesNotMatch(await readFile(impostor.logFile, 'utf8'), /Accepted publickey/, 'no login to the impostor');
    assert.equal(await readFile(knownHostsPath, 'utf8'), known, "the impostor's key is not recorded");
  } finally {
    await stopDropletHost(impostor);
    const d = sim.dropletsByName(a.name)[0]!;
    booted.set(a.name, await bootDropletHost(join(dir, 'droplets'), { name: a.name, address: a.address, port: sshPort, userData: d.userData ?? '', authorizedKeys: [await readFile(join(dir, 'id_ed25519.pub'), 'utf8')] }));
  }
  const again = await cli(...upArgs(), '--skip-verify');
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
});

test('up --prune after workers.count 3 → 2 drains the last worker before its droplet is destroyed, in order', { timeout: 120_000 }, async () => {
  const last = workerName(workers - 1);
  const original = await readFile(specFile, 'utf8');
  // workloads as controllers and the scheduler would have placed them (the API double runs no controllers)
  const pod = (name: string, node: string, owner: string, labels: Record<string, string> = {}): void => {
    const [kind, ownerName] = owner.split('/');
    api!.put('v1', 'pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels, ownerReferences: [{ apiVersion: 'apps/v1', kind, name: ownerName, uid: `uid-${ownerName}`, controller: true }] }, spec: { nodeName: node }, status: { phase: 'Running' } });
  };
  pod('web-a', last, 'ReplicaSet/web-1', { app: 'web' });
  pod('web-b', workerName(0), 'ReplicaSet/web-1', { app: 'web' });
  pod('web-c', workerName(1), 'ReplicaSet/web-1', { app: 'web' });
  pod('proxy-x', last, 'DaemonSet/proxy');
  api!.put('policy/v1', 'poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
  try {
    await writeFile(specFile, original.replace(`workers: { count: ${workers} }`, `workers: { count: ${workers - 1} }`));
    const plan = await cli('plan', '-f', specFile, '--token-file', tokenFile, '--api-url', prism!.url, '--prune');
    assert.equal(plan.code, 0, `${plan.stdout}\n${plan.stderr}`);
    assert.match(plan.stdout, new RegExp(`^remove: ${escapeRe(last)}: cordon Node ${escapeRe(last)}$`, 'm'));
    assert.match(plan.stdout, new RegExp(`^remove: ${escapeRe(last)}: drain Node ${escapeRe(last)}: evict default/web-a; skip default/proxy-x`, 'm'));
    assert.match(plan.stdout, new RegExp(`^remove: ${escapeRe(last)}: destroy droplet ${escapeRe(last)}$`, 'm'));
    assert.equal(api!.node(last)?.['spec'] && (api!.node(last)!['spec'] as { unschedulable?: boolean }).unschedulable, undefined, 'plan cordoned nothing');
    assert.ok(sim.dropletNames().includes(last), 'plan destroyed nothing');

    const r = await cli(...upArgs(), '--prune', '--skip-verify');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^\\[\\d/\\d\\] remove: removed ${escapeRe(last)} \\(\\d+ step\\(s\\)\\)$`, 'm'));
    // one step at a time, each line printed when its step finished: cordon, drain, reset, Node, lease, droplet
    const order = [`cordoned Node ${last}`, `drained Node ${last}: 1 pod(s) evicted, 1 skipped`, `reset ${last} (`, `deleted Node ${last}`, 'deleted flannel lease', `destroy droplet ${last}: done`]
      .map((line) => r.stdout.indexOf(`${last}: ${line}`));
    assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)), `steps in order: ${JSON.stringify(order)}\n${r.stdout}`);
    assert.deepEqual(api!.pods(last), ['default/proxy-x'], 'the ReplicaSet pod was evicted, the DaemonSet pod skipped');
    assert.equal(api!.node(last), undefined, 'Node deleted');
    assert.ok(!sim.dropletNames().includes(last), 'droplet destroyed');
    assert.equal(sim.dropletNames().filter((n) => indexOf(n) >= 0).length, workers - 1);
    const calls = await readFile(join(booted.get(last)!.systemdDir, 'calls.log'), 'utf8');
    assert.match(calls, /^disable --now -- kubelet\.service$/m, 'the kubelet was stopped on the host before its droplet went');
    await assert.rejects(stat(join(rootOf(last), 'var/lib/kubewright/manifest.json')), /ENOENT/, 'reset removed the manifest');
    assert.doesNotMatch(await readFile(knownHostsPath, 'utf8'), new RegExp(escapeRe(publicIp(workers - 1))));
    const leases = await run('etcdctl', ['--endpoints', etcd!.endpoint, '--cacert', join(dir, 'pki/etcd-ca.pem'), '--cert', join(dir, 'pki/etcd-client.pem'), '--key', join(dir, 'pki/etcd-client-key.pem'), 'get', `${prefix}/subnets/`, '--prefix', '--keys-only'], { env: { ...process.env, ETCDCTL_API: '3' } });
    assert.doesNotMatch(leases.stdout, new RegExp(`10\\.200\\.${workers}\\.0-24`), 'its flannel lease is gone');

  } finally {
    await writeFile(specFile, original);
    for (const n of ['web-a', 'web-b', 'web-c', 'proxy-x']) api!.deleteObject('v1', 'pods', 'default', n);
    api!.deleteObject('policy/v1', 'poddisruptionbudgets', 'default', 'web');
  }
});

test('down --yes deletes the listed workers by id and forgets their host keys; no token ever shows', async () => {
  const r = await cli('down', '-f', specFile, '--yes', '--token-file', tokenFile, '--api-url', prism!.url);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(sim.dropletNames(), ['etcd-0'], 'only the etcd droplet (another tag) is left');
  const deletes = sim.requests.filter((q) => q.method === 'DELETE' && q.path.startsWith('/v2/droplets'));
  assert.equal(deletes.filter((q) => /^\/v2\/droplets\/\d+$/.test(q.path)).length, workers, 'one DELETE by id per worker');
  assert.ok(!deletes.some((q) => q.path === '/v2/droplets'), 'never a DELETE by tag');
  const known = await readFile(knownHostsPath, 'utf8').catch(() => '');
  for (let i = 0; i < workers; i++) assert.doesNotMatch(known, new RegExp(escapeRe(publicIp(i))));

  // the API token stays on the operator's machine: in no file kubewright wrote, on no droplet
  const holders = await run('grep', ['-rlF', canaryToken, dir]).then((x) => x.stdout.trim().split('\n'), () => []);
  assert.deepEqual(holders, [tokenFile]);
  for (const o of outputs) {
    for (const secret of [canaryToken, lookupCanary]) {
      assert.ok(!o.stdout.includes(secret) && !o.stderr.includes(secret), 'a token appeared in CLI output');
    }
  }
});

test('up waits for SSH on droplets that turn active before their sshd is up', { timeout: 120_000 }, async () => {
  // after down: fresh droplets, which DigitalOcean reports active while cloud-init is still booting them
  for (const n of nodes.values()) if (n.kubelet?.exitCode === null) n.kubelet.kill('SIGTERM');
  await Promise.all([...booted.values()].map((h) => stopDropletHost(h)));
  for (const m of [booted, booting, nodes]) m.clear();
  await rm(join(dir, 'droplets'), { recursive: true, force: true });
  sim.opts.activateAfterMs = 0;
  bootDelayMs = 5000;
  const r = await cli(...upArgs(), '--skip-verify');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^\[\d\/\d\] provision: 3 hosts ready \(3 created\)$/m);
  assert.match(r.stdout, /^\[\d\/\d\] apply: 3 host\(s\) changed/m);
  for (const s of [canaryToken, lookupCanary]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s));
});

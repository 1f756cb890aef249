// `kubewright up` with `controlPlane: { count: 3 }` end to end against the DigitalOcean simulator
// (TEST DOUBLE, behind Prism with the OpenAPI contract): the masters' droplets, the worker's, the
// API load balancer, the firewalls and their tags, then etcd, the API servers, flannel's network
// config, the worker, the DNS add-on and verify. Each droplet the simulator creates boots as a real
// OpenSSH server on a loopback address (test/e2e/digitalocean-droplet-hosts.ts), confined to a
// fake root where `systemctl` is a TEST DOUBLE that records what kubewright starts. The test then
// runs what systemd would, from the files kubewright wrote there:
//   - etcd.service → REAL etcd (Debian's, served through the spec's mirror in etcd's release
//     layout) with the rendered unit's flags and bootstrap.env, paths inside the droplet's root;
//     its 127.0.0.1 listener is left out, as the three masters share this machine's loopback;
//   - kube-apiserver.service → the STAND-IN kube-apiserver (test/support/stand-in-control-plane.ts,
//     TEST DOUBLE: every flag judged by the flag oracle of 1.36, every file it names read and
//     paired) serving /readyz on the master's address with the rendered serving certificate;
//   - kube-controller-manager and kube-scheduler → their STAND-INS (TEST DOUBLES) with the
//     rendered flags and files, serving /healthz on 10257/10259 at the master's address;
//   - a `curl` wrapper (TEST DOUBLE) on each master sends verify's probes of 127.0.0.1 to that
//     master's own address, since the three share this machine's network;
//   - on the worker, as test/e2e/digitalocean-up.test.ts: its own etcd-lookup for real against the
//     simulator (read-only token), a STAND-IN flanneld (etcdctl with the node's certificates into
//     the etcd kubewright built) and the STAND-IN kubelet.
// The balancer's address (the endpoint) is served by the Kubernetes API TEST DOUBLE
// (test/support/kube-api-double.ts) with a certificate from kubewright's cluster CA: the stand-in
// API servers store nothing, so the worker's Node, the DNS add-on and the RBAC objects live there,
// and no assertion here says the balancer spreads load across the masters.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readClusterCa } from '../../src/pki/cluster-ca.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { controlPlaneBinariesFor, etcdBinariesFor } from '../../src/render/release-binaries.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { withLoadBalancerEndpoint } from '../../src/spec/control-plane-droplets.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { canaryToken } from '../providers/do-harness.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { DigitalOceanSimulator, type RecordedRequest } from '../support/do-simulator.ts';
import { buildEtcdMirror, debianEtcdVersion } from '../support/etcd-mirror.ts';
import { runConfined } from '../support/fake-root.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { KubeApiDouble } from '../support/kube-api-double.ts';
import { TEST_PREFLIGHT } from '../support/lab-spec.ts';
import { startPrismProxy, type PrismProxy } from '../support/prism.ts';
import { startTlsFront, type TlsFront } from '../support/tls-front.ts';
import { bootDropletHost, portFreeOn, startedUnits, stopDropletHost, type DropletHost } from './digitalocean-droplet-hosts.ts';

const run = promisify(execFile);
const standInKubelet = join(import.meta.dirname, '../support/stand-in-kubelet.sh');
const standInControlPlane = join(import.meta.dirname, '../support/stand-in-control-plane.ts');

const masters = 3;
const domain = 'e2e.example.com';
const version = '1.36.2';
const prefix = '/flannel.com/network';
const masterName = (i: number): string => `k8s-master-${i}.${domain}`;
const workerName = `k8s-worker-0.${domain}`;
// a loopback block of this run's own: etcd (2379/2380) and kube-apiserver (6443) listen on fixed ports
const block = `127.${64 + randomInt(128)}.${randomInt(1, 255)}`;
const masterIp = (i: number): string => `${block}.${41 + i}`;
const workerIp = `${block}.21`;
const workerPrivateIp = '10.135.33.21';
const lbIp = `${block}.60`;
const lookupCanary = 'dop_v1_LOOKUPCANARY7d1e5a3c9b0f2e4d6a8c1b3e5f7a9c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a1';

let dir: string;
let specFile: string;
let tokenFile: string;
let lookupFile: string;
let sim: DigitalOceanSimulator;
let prism: PrismProxy | undefined;
let apiTls: TlsFront | undefined;
let api: KubeApiDouble | undefined;
let sshPort: number;
const booted = new Map<string, DropletHost>();
const booting = new Set<string>();
/** what the test runs for the units kubewright started on a droplet */
interface Agents { etcd?: ChildProcess; apiserver?: ChildProcess; controllers?: ChildProcess[]; lookup?: 'running' | 'done'; lease?: 'writing' | 'done'; kubelet?: ChildProcess; log: string[] }
const agents = new Map<string, Agents>();
const watchErrors: string[] = [];
const outputs: CliResult[] = [];
let watching = true;
let watcher: Promise<void> = Promise.resolve();

const roleOf = (name: string): 'master' | 'worker' | undefined => (name.startsWith('k8s-master-') ? 'master' : name.startsWith('k8s-worker-') ? 'worker' : undefined);
const indexOf = (name: string): number => Number(/-(\d+)\./.exec(name)?.[1] ?? -1);
const addressOf = (name: string): string => (roleOf(name) === 'master' ? masterIp(indexOf(name)) : workerIp);

/** A rendered unit's ExecStart as argv (continuation lines joined) and its EnvironmentFile, if any. */
async function unitCommand(h: DropletHost, unit: string): Promise<{ argv: string[]; envFile?: string }> {
  const text = (await readFile(join(h.root, 'etc/systemd/system', unit), 'utf8')).replace(/\\\n\s*/g, ' ');
  const exec = /^ExecStart=(.+)$/m.exec(text)?.[1];
  if (!exec) throw new Error(`${h.name}: ${unit} has no ExecStart`);
  const envFile = /^EnvironmentFile=-?(\S+)$/m.exec(text)?.[1];
  return { argv: exec.trim().split(/\s+/), ...(envFile ? { envFile } : {}) };
}

function spawnAgent(name: string, what: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const a = agents.get(name)!;
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => void a.log.push(`${what}: ${b.toString()}`.slice(0, 2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    if (watching && signal !== 'SIGTERM') watchErrors.push(`${name}: ${what} exited (${code ?? signal}): ${a.log.filter((l) => l.startsWith(what)).slice(-3).join(' ')}`);
  });
  return child;
}

/**
 * What systemd would run on a master once kubewright starts its units: etcd (real, the binary
 * kubewright installed, paths in the droplet's root) and the stand-in kube-apiserver.
 */
async function runMasterUnits(h: DropletHost): Promise<void> {
  const a = agents.get(h.name)!;
  const started = await startedUnits(h);
  if (started.has('etcd.service') && !a.etcd) {
    const { argv, envFile } = await unitCommand(h, 'etcd.service');
    const inRoot = (arg: string): string => arg.replace(/^(--[a-z-]+=)(\/.*)$/, (_m, flag: string, path: string) => `${flag}${join(h.root, path)}`)
      // the three masters share this machine's 127.0.0.1: each keeps its own address only
      .replace(/^(--listen-client-urls=[^,]+),https:\/\/127\.0\.0\.1:2379$/, '$1');
    const env = Object.fromEntries((envFile ? await readFile(join(h.root, envFile), 'utf8') : '').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    a.etcd = spawnAgent(h.name, 'etcd', join(h.root, argv[0]!), argv.slice(1).map(inRoot), env);
  }
  if (started.has('kube-apiserver.service') && !a.apiserver) {
    const { argv } = await unitCommand(h, 'kube-apiserver.service');
    a.apiserver = spawnAgent(h.name, 'kube-apiserver', process.execPath, ['--import', 'tsx', standInControlPlane, 'kube-apiserver', '36', ...argv.slice(1)], { STAND_IN_ROOT: h.root, STAND_IN_HOST: h.address });
  }
  if (started.has('kube-controller-manager.service') && started.has('kube-scheduler.service') && !a.controllers) {
    a.controllers = [];
    for (const [component, healthPort] of [['kube-controller-manager', '10257'], ['kube-scheduler', '10259']] as const) {
      const { argv } = await unitCommand(h, `${component}.service`);
      a.controllers.push(spawnAgent(h.name, component, process.execPath, ['--import', 'tsx', standInControlPlane, component, '36', ...argv.slice(1)], { STAND_IN_ROOT: h.root, STAND_IN_HOST: h.address, STAND_IN_HEALTH_PORT: healthPort }));
    }
  }
}

/**
 * The three masters share this machine's network, so each one's 127.0.0.1 is modelled by its own
 * loopback address: a `curl` wrapper first on the droplet's PATH (TEST DOUBLE, beside the
 * systemctl double) sends what verify's probe asks of 127.0.0.1 there.
 */
async function ownLoopback(h: DropletHost): Promise<void> {
  await writeFile(join(h.dir, 'bin', 'curl'), `#!/bin/sh\nexec /usr/bin/curl --connect-to 127.0.0.1::${h.address}: "$@"\n`, { mode: 0o755 });
}

/** What systemd would run on the worker: its etcd-lookup for real, a stand-in flanneld, the stand-in kubelet. */
async function runWorkerUnits(h: DropletHost): Promise<void> {
  const a = agents.get(h.name)!;
  const r = (p: string): string => join(h.root, p);
  const started = await startedUnits(h);
  if (started.has('etcd-lookup.service') && !a.lookup) {
    a.lookup = 'running';
    const ca = join(h.dir, 'api-ca.pem');
    await copyFile(join(dir, 'pki', 'ca.pem'), ca);
    const out = await runConfined(h.root, h.dir, '/bin/sh /usr/local/bin/etcd-lookup', {
      PATH: '/usr/local/bin:/usr/bin:/bin', DIGITALOCEAN_API_URL: apiTls!.url, CURL_CA_BUNDLE: ca, ETCD_LOOKUP_ATTEMPTS: '10', ETCD_LOOKUP_RETRY_SECONDS: '1',
    });
    if (out.code !== 0) throw new Error(`etcd-lookup failed: ${out.stderr}`);
    a.lookup = 'done';
  }
  if (started.has('flanneld.service') && a.lookup === 'done' && !a.lease) {
    a.lease = 'writing';
    const members = /^ETCD_MEMBERS=(\S+)$/m.exec(await readFile(r('etc/flannel/etcd-members'), 'utf8'))?.[1];
    if (!members) throw new Error('etcd-lookup wrote no ETCD_MEMBERS');
    const lease = JSON.stringify({ PublicIP: workerPrivateIp, PublicIPv6: null, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '0a:58:0a:c8:00:01' } });
    await run('etcdctl', ['--endpoints', members, '--cacert', r('etc/flannel/etcd-ca.pem'), '--cert', r('etc/flannel/etcd-client.pem'), '--key', r('etc/flannel/etcd-client-key.pem'), '--dial-timeout', '3s', 'put', `${prefix}/subnets/10.200.1.0-24`, lease], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 });
    a.lease = 'done';
  }
  if (started.has('kubelet.service') && !a.kubelet) {
    const unit = await readFile(r('etc/systemd/system/kubelet.service'), 'utf8');
    const named = /--kubeconfig=(\S+)/.exec(unit)?.[1];
    if (!named) throw new Error('the rendered kubelet.service names no --kubeconfig');
    const kubeconfig = join(h.dir, 'kubelet.kubeconfig');
    await writeFile(kubeconfig, (await readFile(join(h.root, named), 'utf8')).replaceAll(' /etc/kubernetes/', ` ${h.root}/etc/kubernetes/`), { mode: 0o600 });
    a.kubelet = spawnAgent(h.name, 'kubelet', 'sh', [standInKubelet, '--kubeconfig', kubeconfig, '--node-name', h.name, '--kubelet-version', `v${version}`, '--interval', '1', '--max-beats', '300', '--address', workerPrivateIp]);
  }
}

/** Boots each droplet the simulator holds (cloud-init + sshd), then runs the units kubewright starts there. */
async function watchDroplets(): Promise<void> {
  while (watching) {
    const work: Promise<void>[] = [];
    for (const name of sim.dropletNames()) {
      if (!roleOf(name) || booted.has(name) || booting.has(name)) continue;
      const d = sim.dropletsByName(name)[0];
      if (!d?.userData) continue;
      booting.add(name);
      agents.set(name, { log: [] });
      const keys = sim.accountKeys().filter((k) => d.sshKeys.includes(k.id) || d.sshKeys.includes(k.fingerprint)).map((k) => k.public_key);
      work.push(bootDropletHost(join(dir, 'droplets'), { name, address: addressOf(name), port: sshPort, userData: d.userData, authorizedKeys: keys }).then(
        async (h) => {
          if (roleOf(name) === 'master') await ownLoopback(h);
          booted.set(name, h);
          // droplets turn active once every sshd is up, as real ones do after boot
          if ([...Array.from({ length: masters }, (_, i) => masterName(i)), workerName].every((n) => booted.has(n))) sim.opts.activateAfterMs = 0;
        },
        (e: unknown) => void watchErrors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`),
      ));
    }
    for (const h of booted.values()) {
      const go = roleOf(h.name) === 'master' ? runMasterUnits(h) : runWorkerUnits(h);
      work.push(go.catch((e: unknown) => void watchErrors.push(`${h.name} units: ${e instanceof Error ? e.message : String(e)}`)));
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
const writes = (rs: readonly RecordedRequest[]): string[] =>
  rs.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}${q.path === '/v2/tags' ? ` ${(q.body as { name: string }).name}` : ''}`);
const failure = (r: CliResult): string =>
  `${r.stdout}\n${r.stderr}\nwatcher errors: ${watchErrors.join('\n')}\nagents: ${[...agents].map(([n, a]) => `${n}: ${a.log.slice(-6).join('')}`).join('\n')}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-e2e-do-cp-'));
  sim = new DigitalOceanSimulator({
    token: canaryToken,
    readOnlyTokens: [lookupCanary],
    activateAfterMs: 3_600_000,
    addresses: (d) => (roleOf(d.name) === 'master' ? { publicV4: masterIp(indexOf(d.name)), privateV4: masterIp(indexOf(d.name)) } : { publicV4: workerIp, privateV4: workerPrivateIp }),
    loadBalancerIp: () => lbIp,
  });
  await sim.start();
  prism = await startPrismProxy(sim.url);

  tokenFile = join(dir, 'do-token');
  lookupFile = join(dir, 'do-lookup-token');
  await writeFile(tokenFile, `${canaryToken}\n`, { mode: 0o600 });
  await writeFile(lookupFile, `${lookupCanary}\n`, { mode: 0o600 });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kubewright-e2e', '-f', join(dir, 'id_ed25519')]);
  sshPort = await portFreeOn([...Array.from({ length: masters }, (_, i) => masterIp(i)), workerIp]);
  specFile = join(dir, 'cluster.yaml');
  const etcdVersion = await debianEtcdVersion();
  const spec = (pins: Record<string, string>): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: e2e-cp }
profile: modern
kubernetes: { version: "${version}", clusterDNS: 10.32.0.10 }
provider:
  digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [k8s-worker], domain: ${domain} }
workers: { count: 1 }
controlPlane: { count: ${masters} }
versions: { etcd: "${etcdVersion}" }
etcd: { prefix: ${prefix} }
pki: { dir: ./pki }
ssh: { user: root, port: ${sshPort}, privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
artifacts:
  mirror: ./mirror
  checksums:
${Object.entries(pins).map(([u, s]) => `    "${u}": ${s}`).join('\n') || '    {}'}
${TEST_PREFLIGHT}
`;
  await writeFile(specFile, spec({}));
  // the binaries every role fetches, served from the spec's mirror: stand-in scripts for the
  // Kubernetes binaries (never executed here), Debian's real etcd in etcd's release layout
  const cluster = withLoadBalancerEndpoint(parseCluster(spec({}), specFile), lbIp);
  const workerBinaries = renderCluster({ cluster, hosts: plannedHosts(cluster).filter((h) => !h.role) }).hosts.values().next().value!.binaries;
  const mirror = await buildArtifactMirror(join(dir, 'mirror'), [...workerBinaries, ...controlPlaneBinariesFor(cluster, { arch: 'amd64', kubernetesVersion: version })]);
  await buildEtcdMirror(join(dir, 'mirror'), etcdBinariesFor(cluster, 'amd64'));
  await writeFile(specFile, spec(mirror.pins));

  const init = await cli('pki', 'init', '-f', specFile);
  assert.equal(init.code, 0, init.stderr);
  const ca = await readClusterCa(join(dir, 'pki'));
  assert.ok(ca);
  apiTls = await startTlsFront(prism.url, await issueCertificate(ca, { CN: 'api.digitalocean.test', hosts: ['127.0.0.1'] }));
  // the balancer's address: the Kubernetes API double, with a certificate of kubewright's cluster CA
  const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: [lbIp] });
  api = new KubeApiDouble({ caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, host: lbIp, port: 6443, gitVersion: `v${version}`, authorization: 'node', staleAfterMs: heartbeatStaleAfterMs, anonymousHealth: true });
  await api.start();

  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
  watcher = watchDroplets();
});

after(async () => {
  watching = false;
  await watcher;
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  for (const a of agents.values()) for (const c of [a.etcd, a.apiserver, ...(a.controllers ?? []), a.kubelet]) if (c && c.exitCode === null) c.kill('SIGTERM');
  await Promise.all([...booted.values()].map((h) => stopDropletHost(h)));
  await api?.stop();
  await apiTls?.stop();
  await prism?.stop();
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('plan before up shows every role\'s droplets, both firewalls and the balancer to create, and writes nothing', { timeout: 60_000 }, async () => {
  const plan = await cli('plan', '-f', specFile, '--token-file', tokenFile, '--api-url', prism!.url, '--lookup-token-file', lookupFile);
  assert.equal(plan.code, 0, failure(plan));
  assert.match(plan.stdout, new RegExp(`^droplets: 4 to create in 2 call\\(s\\): ${workerName.replaceAll('.', '\\.')}, k8s-master-0`, 'm'));
  assert.match(plan.stdout, /^firewall kubewright-e2e-cp: to create$/m);
  assert.match(plan.stdout, /^firewall kubewright-e2e-cp-control-plane: to create\n(?: {2}\+ .*\n)*? {2}\+ in tcp 2380 from tag:k8s-master$/m);
  // the etcd members were looked for with the lookup token at --api-url (none yet), not at api.digitalocean.com
  assert.match(plan.stdout, /^note: etcd\.discovery\.digitaloceanTag \(k8s-etcd\): no etcd member found yet/m);
  assert.ok(sim.requests.some((q) => q.readOnly && q.query['tag_name'] === 'k8s-etcd'));
  assert.match(plan.stdout, /^load balancer kubewright-e2e-cp-api: to create/m);
  assert.deepEqual(writes(sim.requests), []);
});

test('up with three masters makes exactly the expected DigitalOcean calls, forms etcd on them, serves the API servers and verifies', { timeout: 300_000 }, async () => {
  const r = await cli(...upArgs());
  assert.equal(r.code, 0, failure(r));
  assert.deepEqual(watchErrors, []);
  // every step ran, none skipped: etcd on the masters, the API servers, then the worker and verify
  for (const step of ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'verify']) assert.match(r.stdout, new RegExp(`^\\[\\d/9\\] ${step}: (?!skipped)`, 'm'), `${step}\n${r.stdout}`);

  // verify's control-plane checks: each member's health through real etcd, each component's health on each master (on the stand-ins)
  assert.match(r.stdout, /^\[9\/9\] verify: 1 nodes Ready, DNS ok, etcd .*, 9 control-plane components healthy$/m);

  // every write, in order: the workers' firewall (its tags first), the balancer, the masters' firewall (naming the balancer's id), the key, one create per role
  const w = writes(sim.requests);
  console.log(`first up: ${sim.counts().total} DigitalOcean API calls: ${JSON.stringify(sim.counts().byRoute)}`);
  assert.deepEqual(w.slice(0, 5), ['POST /v2/tags k8s-worker', 'POST /v2/tags k8s-master', 'POST /v2/firewalls', 'POST /v2/load_balancers', 'POST /v2/firewalls']);
  assert.deepEqual(w.slice(5).sort(), ['POST /v2/account/keys', 'POST /v2/droplets', 'POST /v2/droplets']);
  const creates = sim.requests.filter((q) => q.method === 'POST' && q.path === '/v2/droplets').map((q) => q.body as { names: string[]; tags: string[] });
  assert.deepEqual(creates.map((c) => [c.names, c.tags]).sort(), [
    [Array.from({ length: masters }, (_, i) => masterName(i)), ['k8s-master', 'k8s-etcd']],
    [[workerName], ['k8s-worker']],
  ].sort());
  assert.deepEqual(sim.loadBalancerList().map((l) => [l.name, l.tag]), [['kubewright-e2e-cp-api', 'k8s-master']]);
  assert.deepEqual(sim.firewallList().map((f) => [f.name, f.tags]).sort(), [['kubewright-e2e-cp', ['k8s-worker']], ['kubewright-e2e-cp-control-plane', ['k8s-master']]]);
  assert.match(r.stdout, new RegExp(`API load balancer kubewright-e2e-cp-api at ${lbIp.replaceAll('.', '\\.')} \\(created\\)`));

  // etcd: one cluster of the three masters, with flannel's network config and the worker's lease in it
  const m0 = booted.get(masterName(0))!;
  const etcdctl = (...args: string[]): Promise<{ stdout: string }> => run('etcdctl', ['--endpoints', `https://${masterIp(1)}:2379`, '--cacert', join(m0.root, 'etc/etcd/ca.pem'), '--cert', join(dir, 'pki/etcd/kubewright-client.pem'), '--key', join(dir, 'pki/etcd/kubewright-client-key.pem'), ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  const members = (await etcdctl('member', 'list')).stdout.trim().split('\n');
  assert.equal(members.length, masters, members.join('\n'));
  for (let i = 0; i < masters; i++) assert.ok(members.some((l) => l.includes(masterName(i)) && l.includes(`https://${masterIp(i)}:2380`)), members.join('\n'));
  assert.match((await etcdctl('get', `${prefix}/config`, '--print-value-only')).stdout, /"Network":\s*"10\.200\.0\.0\/16"/);
  assert.match((await etcdctl('get', `${prefix}/subnets/`, '--prefix', '--keys-only')).stdout, /10\.200\.1\.0-24/);
  // the worker's etcd-lookup found the masters by the etcd tag they carry
  assert.equal(await readFile(join(booted.get(workerName)!.root, 'etc/flannel/etcd-members'), 'utf8'), `ETCD_MEMBERS=${Array.from({ length: masters }, (_, i) => `https://${masterIp(i)}:2379`).sort().join(',')}\n`);
  // each master's stand-in kube-apiserver accepted the rendered flags and files and serves /readyz there
  for (let i = 0; i < masters; i++) assert.ok(agents.get(masterName(i))?.log.some((l) => l.startsWith('kube-apiserver: ready')), masterName(i));
  // the worker registered through the endpoint as itself
  assert.deepEqual(api!.nodeWriters(workerName), [`system:node:${workerName}`]);
});

test('a second up makes no POST, PUT or DELETE and starts nothing again', { timeout: 180_000 }, async () => {
  sim.resetCounts();
  const calls = new Map<string, number>();
  const starts = async (h: DropletHost): Promise<number> => (await readFile(join(h.systemdDir, 'calls.log'), 'utf8')).split('\n').filter((l) => /^(start|restart|enable) /.test(l)).length;
  for (const h of booted.values()) calls.set(h.name, await starts(h));
  const r = await cli(...upArgs(), '--output', 'json');
  assert.equal(r.code, 0, failure(r));
  const result = JSON.parse(r.stdout) as { ok: boolean; provision: { created: string[]; loadBalancer?: { action: string }; controlPlaneFirewalls?: { action: string }[] }; pki: { issued: unknown[] } };
  assert.equal(result.ok, true);
  assert.deepEqual(result.provision.created, []);
  assert.equal(result.provision.loadBalancer?.action, 'unchanged');
  assert.deepEqual(result.provision.controlPlaneFirewalls?.map((f) => f.action), ['unchanged']);
  assert.deepEqual(result.pki.issued, []);
  console.log(`second up: ${sim.counts().total} DigitalOcean API calls: ${JSON.stringify(sim.counts().byRoute)}`);
  assert.deepEqual(writes(sim.requests), []);
  for (const h of booted.values()) assert.equal(await starts(h), calls.get(h.name), `${h.name}: no unit started, restarted or enabled`);
  for (const s of [canaryToken, lookupCanary]) for (const o of outputs) assert.ok(!o.stdout.includes(s) && !o.stderr.includes(s), 'a token appeared in CLI output');
});

test('later commands reach the endpoint up recorded: kubeconfig names the balancer\'s IP, and kubectl get nodes through it shows the worker Ready', { timeout: 60_000 }, async () => {
  const kubeconfig = join(dir, 'admin.kubeconfig');
  const kc = await cli('kubeconfig', '-f', specFile, '--out', kubeconfig);
  assert.equal(kc.code, 0, failure(kc));
  assert.match(kc.stderr, new RegExp(`server https://${lbIp.replaceAll('.', '\\.')}:6443\\)`));
  const nodes = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '--no-headers'], { timeout: 30_000 });
  assert.match(nodes.stdout, new RegExp(`^${workerName.replaceAll('.', '\\.')}\\s+Ready\\s`, 'm'), nodes.stdout);
});

test('plan shows every role in place, then down deletes the masters, the worker, the balancer and the firewalls by id', { timeout: 120_000 }, async () => {
  const plan = await cli('plan', '-f', specFile, '--token-file', tokenFile, '--api-url', prism!.url, '--lookup-token-file', lookupFile);
  assert.equal(plan.code, 0, failure(plan));
  assert.match(plan.stdout, /^droplets: all 4 exist, none to create$/m);
  assert.match(plan.stdout, /^firewall kubewright-e2e-cp-control-plane: up to date/m);
  assert.match(plan.stdout, new RegExp(`^load balancer kubewright-e2e-cp-api: exists \\([0-9a-f-]{36}, ${lbIp.replaceAll('.', '\\.')}\\)$`, 'm'));
  sim.resetCounts();
  const down = await cli('down', '-f', specFile, '--yes', '--token-file', tokenFile, '--api-url', prism!.url);
  assert.equal(down.code, 0, failure(down));
  assert.deepEqual(sim.dropletNames(), []);
  assert.deepEqual([sim.loadBalancerList(), sim.firewallList()], [[], []]);
  assert.deepEqual(writes(sim.requests).map((x) => x.replace(/[0-9a-f-]{36}$|\d+$/, '{id}')), [...Array<string>(masters + 1).fill('DELETE /v2/droplets/{id}'), 'DELETE /v2/load_balancers/{id}', 'DELETE /v2/firewalls/{id}', 'DELETE /v2/firewalls/{id}']);
});

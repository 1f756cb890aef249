// verify's control-plane checks against real parts wherever this machine has them:
//   - etcd: a real 3-member etcd cluster on loopback (Debian's etcd), mutual TLS;
//   - the masters: kubewright's PKI and rendered files, served by the kube-apiserver,
//     kube-controller-manager and kube-scheduler STAND-INS (TEST DOUBLES, test/support/
//     stand-in-control-plane.ts) on 127.0.0.41 and 127.0.0.42; real curl asks their health URLs
//     through the real probe command, run by the local executor instead of over SSH (TEST DOUBLE
//     of the SSH hop: it also points the binaries' fixed ports at the stand-ins' free ones);
//   - the endpoint: a TCP balancer TEST DOUBLE (round robin, or everything to one master) in front
//     of the two API server stand-ins; the TLS sessions it passes through are real Node TLS.
// Assertions resting on doubles: the components' health answers are the stand-ins'; that a real
// DigitalOcean balancer spreads connections is only shown on a real account.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalExecutor } from '../../src/exec/local-executor.ts';
import { ensureClusterPki } from '../../src/pki/cluster-pki.ts';
import { ensureControlPlanePki } from '../../src/pki/control-plane-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderControlPlaneHost } from '../../src/render/control-plane/master-host.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { hostHealthProbe, parseHealthProbe } from '../../src/run/control-plane-probe.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { verifyControlPlane, type ControlPlaneReport, type HostHealthProbe } from '../../src/verify/control-plane-health.ts';
import { formatVerifyReport } from '../../src/cli/verify-report.ts';
import { unitFlags } from '../contracts/flag-oracle.ts';
import { modernSpec, workspace, type Workspace } from '../pki/pki-workspace.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';
import { freePort } from '../support/free-port.ts';

const STAND_IN = join(import.meta.dirname, '..', 'support', 'stand-in-control-plane.ts');
const masters: Host[] = [1, 2].map((i) => ({ name: `m${i}`, address: `127.0.0.4${i}`, privateAddress: `127.0.0.4${i}`, port: 22, user: 'root', role: 'control-plane' as const }));

let ws: Workspace;
let cluster: Cluster;
let caPem: string;
let etcd: EtcdTestCluster;
/** the API port: the balancer double on 127.0.0.1, each API server stand-in on its master's address */
let port: number;
const healthPorts = new Map<string, { cm: number; sched: number }>();
const children = new Map<string, ChildProcess>();
let balancer: Server | undefined;
/** every socket the balancer double holds (client and upstream), destroyed before it closes */
const balancerSockets = new Set<Socket>();
/** the balancer double's rule: round robin, or every connection to one master */
let only: string | undefined;

function startStandIn(key: string, component: string, args: string[], root: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', STAND_IN, component, '36', ...args], { env: { ...process.env, STAND_IN_ROOT: root, STAND_IN_PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(key, child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    // bounded: a stand-in that never says ready fails the file with what it printed, instead of hanging it
    const timer = setTimeout(() => reject(new Error(`${key} stand-in printed nothing in 60 s: ${stderr.trim()}`)), 60_000);
    child.stdout?.once('data', () => (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${key} stand-in exited ${String(code)}: ${stderr.trim()}`))));
  });
}

const flagsOf = (host: RenderedHost, component: string): string[] => unitFlags(host.files.find((f) => f.path.endsWith(`/${component}.service`))?.contents ?? '');

/** TEST DOUBLE of the endpoint's TCP balancer: passes bytes through (TLS ends at the API servers), round robin unless `only` is set. */
function startBalancer(): Promise<Server> {
  let next = 0;
  const sockets = balancerSockets;
  const server = createServer((client) => {
    const m = masters.find((x) => x.name === only) ?? masters[next++ % masters.length]!;
    const upstream = tcpConnect(port, m.address!);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The real probe command run here by the local executor (TEST DOUBLE of the SSH hop), the components' fixed ports pointed at this master's stand-ins. */
const probe: HostHealthProbe = (host, urls) => {
  const p = healthPorts.get(host.name)!;
  const local = urls.map((u) => u.replace('127.0.0.1:6443', `${host.address!}:${port}`).replace(':10257/', `:${p.cm}/`).replace(':10259/', `:${p.sched}/`));
  return hostHealthProbe(async () => new LocalExecutor({ name: host.name }))(host, local).then((answers) => answers.map((a, i) => ({ ...a, url: urls[i]! })));
};

before(async () => {
  ws = await workspace('cp-verify');
  port = await freePort();
  etcd = await startEtcdCluster({ members: 3 });
  cluster = await ws.writeSpec(`${modernSpec().replace('https://api.pkitest.example:6443', `https://127.0.0.1:${port}`)}controlPlane:
  hosts:
    - { name: m1, address: 127.0.0.41 }
    - { name: m2, address: 127.0.0.42 }
    - { name: m3, address: 127.0.0.43 }
  endpoint: { address: 127.0.0.1, port: ${port} }
  etcd:
    hosts:
      - { name: e1, address: 127.0.0.51, privateAddress: 10.9.9.9 }
`);
  const pki = await ensureClusterPki(cluster, plannedHosts(cluster));
  caPem = pki.credentials.caPem;
  const { credentials } = await ensureControlPlanePki(cluster, masters, { endpoint: { address: '127.0.0.1' } });
  // one balancer, started before the masters' stand-ins (three concurrent `balancer ??= await …` raced to listen twice on the port)
  balancer = await startBalancer();
  await Promise.all(masters.map(async (m) => {
    const rendered = renderControlPlaneHost({ cluster, masters, etcdServers: etcd.endpoints, credentials }, m);
    const root = join(ws.dir, `root-${m.name}`);
    for (const f of rendered.files) {
      await mkdir(join(root, dirname(f.path)), { recursive: true });
      await writeFile(join(root, f.path), f.contents, { mode: f.mode });
    }
    const p = { cm: await freePort(), sched: await freePort() };
    healthPorts.set(m.name, p);
    await startStandIn(`${m.name}/kube-apiserver`, 'kube-apiserver', flagsOf(rendered, 'kube-apiserver'), root, { STAND_IN_HOST: m.address! });
    // the controllers print `connected` once they reach the API through the balancer
    await Promise.all([
      startStandIn(`${m.name}/kube-controller-manager`, 'kube-controller-manager', flagsOf(rendered, 'kube-controller-manager'), root, { STAND_IN_HEALTH_PORT: String(p.cm) }),
      startStandIn(`${m.name}/kube-scheduler`, 'kube-scheduler', flagsOf(rendered, 'kube-scheduler'), root, { STAND_IN_HEALTH_PORT: String(p.sched) }),
    ]);
  }));
});

after(async () => {
  await Promise.all([...children.values()].map((c) => (c.exitCode === null ? (c.kill('SIGTERM'), new Promise((r) => c.once('exit', r))) : undefined)));
  // close() waits for every open connection: end them first (a kept-alive one would hang the file)
  for (const s of balancerSockets) s.destroy();
  await new Promise((r) => (balancer ? balancer.close(r) : r(undefined)));
  await etcd?.stop();
  await ws?.cleanup();
});

const etcdConn = (): { endpoints: string[]; tls: { caPem: string; certPem: string; keyPem: string } } => ({ endpoints: etcd.endpoints, tls: { caPem: etcd.certs.caPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem } });

const run = (hosts: Host[] = masters): Promise<ControlPlaneReport> => verifyControlPlane({ cluster, hosts, etcd: etcdConn(), probe, caPem, masterApiPort: port });

test('a healthy control plane: every etcd member answers a linearizable read, each master\'s three components are healthy, and the endpoint reaches both masters', async () => {
  only = undefined;
  const r = await run();
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.etcd.members.map((m) => `${m.name} ${m.healthy}`).sort(), ['kw0 true', 'kw1 true', 'kw2 true']);
  assert.deepEqual(r.components.map((c) => `${c.host} ${c.component} ${c.healthy}`), [
    'm1 kube-apiserver true', 'm1 kube-controller-manager true', 'm1 kube-scheduler true',
    'm2 kube-apiserver true', 'm2 kube-controller-manager true', 'm2 kube-scheduler true',
  ]);
  assert.equal(r.endpoint.checked, true);
  assert.deepEqual(Object.keys(r.endpoint.reached).sort(), ['m1', 'm2']);
  const text = formatVerifyReport({ ok: true, api: { ok: true, server: r.endpoint.server, detail: 'ok' }, nodes: [], otherNodes: [], dns: { ok: true, detail: '' }, flannel: { ok: true, checked: false, detail: 'skipped' }, controlPlane: r, problems: [] }).join('\n');
  assert.match(text, /MEMBER\s+ID\s+CLIENT URL\s+HEALTH/);
  assert.match(text, /m2\s+kube-scheduler\s+healthy/);
  assert.match(text, /endpoint https:\/\/127\.0\.0\.1:\d+: balanced — 6 connections .* reached 2 of 2 masters/);
});

test('a balancer that sends every connection to m1 is reported: m2 never took one', async () => {
  only = 'm1';
  try {
    const r = await run();
    assert.equal(r.endpoint.ok, false);
    assert.deepEqual(Object.keys(r.endpoint.reached), ['m1']);
    assert.deepEqual(r.problems, [`endpoint https://127.0.0.1:${port}: all 6 traced connection(s) through 127.0.0.1:${port} reached m1; none reached m2 (is the balancer's health check failing them?)`]);
  } finally {
    only = undefined;
  }
});

test('with one master the balancing is not checked (n/a), not failed', async () => {
  const r = await run([masters[0]!]);
  assert.deepEqual([r.endpoint.checked, r.endpoint.ok, r.endpoint.detail], [false, true, 'n/a: 1 master(s), nothing to balance']);
});

test('a stopped scheduler on m2 fails its row with the reason; the other components stay healthy', async () => {
  const s = children.get('m2/kube-scheduler')!;
  await new Promise((r) => {
    s.once('exit', r);
    s.kill('SIGTERM');
  });
  const r = await run();
  const bad = r.components.filter((c) => !c.healthy);
  assert.deepEqual(bad.map((c) => `${c.host} ${c.component}`), ['m2 kube-scheduler']);
  assert.match(bad[0]!.detail, /^not answering: curl: \(7\)/);
  assert.deepEqual(r.problems.filter((p) => p.startsWith('m2:')), [`m2: kube-scheduler: ${bad[0]!.detail}`]);
});

test('a stopped etcd member is unhealthy by name, and a spec etcd host the cluster does not list is "not a member" (one without an address says so)', async () => {
  await etcd.stopMember(2);
  try {
    const r = await run([...masters, { name: 'e1', address: '127.0.0.51', privateAddress: '10.9.9.9', port: 22, user: 'root', role: 'etcd' }, { name: 'e2', address: undefined, port: 22, user: 'root', role: 'etcd' }]);
    assert.equal(r.etcd.ok, false);
    assert.equal(r.etcd.detail, '2/5 members healthy');
    assert.equal(r.etcd.members.find((m) => m.name === 'e2')?.detail, 'not a member, and the host has no address (not provisioned, or not running)');
    const row = (n: string) => r.etcd.members.find((m) => m.name === n)!;
    assert.deepEqual([row('kw0').healthy, row('kw1').healthy, row('kw2').healthy], [true, true, false]);
    assert.equal(row('kw0').inSpec, false);
    assert.deepEqual([row('e1').healthy, row('e1').inSpec, row('e1').detail], [false, true, 'not a member (the cluster does not list https://10.9.9.9:2380)']);
    assert.ok(r.problems.some((p) => p.startsWith('etcd member kw2: ')), r.problems.join('\n'));
  } finally {
    await etcd.startMember(2);
  }
});

test('the probe command: one line per URL with its HTTP status; a missing curl or a refused port reads as not answering', () => {
  const urls = ['https://127.0.0.1:6443/readyz', 'https://127.0.0.1:10257/healthz', 'https://127.0.0.1:10259/healthz'];
  assert.deepEqual(parseHealthProbe(urls, 'ok KWSTATUS 200\n[-]etcd failed KWSTATUS 500\ncurl: (7) Failed to connect KWSTATUS 000\n'), [
    { url: urls[0], status: 200, body: 'ok' },
    { url: urls[1], status: 500, body: '[-]etcd failed' },
    { url: urls[2], status: 0, body: '', error: 'curl: (7) Failed to connect' },
  ]);
  assert.equal(parseHealthProbe(urls.slice(0, 1), 'sh: 1: curl: not found\n')[0]?.error, 'sh: 1: curl: not found');
});

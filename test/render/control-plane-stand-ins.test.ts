// The rendered control plane started on the labelled stand-ins (TEST DOUBLES, test/support/
// stand-in-control-plane.ts: kube-apiserver, kube-controller-manager and kube-scheduler cannot run
// here). What is real: the PKI kubewright issued, the files and units it rendered, openssl-grade TLS
// in Node and kubectl. What rests on the doubles: that the flags and files are the ones the binaries
// of that minor accept (the stand-ins hold them to the independent flag oracle and read every file).
// Then a worker's rendered kubeconfig reaches the endpoint and verifies its serving certificate.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureClusterPki, type ClusterPki } from '../../src/pki/cluster-pki.ts';
import { ensureControlPlanePki } from '../../src/pki/control-plane-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { renderControlPlaneHost } from '../../src/render/control-plane/master-host.ts';
import type { RenderedFile, RenderedHost } from '../../src/render/types.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import type { ControlPlaneCredentials } from '../../src/spec/credentials.ts';
import type { Host } from '../../src/spec/host.ts';
import { modernSpec, workspace, type Workspace } from '../pki/pki-workspace.ts';
import { freePort } from '../support/free-port.ts';
import { unitFlags } from '../contracts/flag-oracle.ts';

const STAND_IN = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'stand-in-control-plane.ts');
const masters: Host[] = [1, 2, 3].map((i) => ({ name: `m${i}`, address: `203.0.113.2${i}`, privateAddress: `10.0.1.${i}`, port: 22, user: 'root' }));

let ws: Workspace;
let cluster: Cluster;
let port: number;
let pki: ClusterPki;
let credentials: ControlPlaneCredentials;
const children: ChildProcess[] = [];

async function writeTree(rootDir: string, files: readonly RenderedFile[]): Promise<void> {
  for (const f of files) {
    await mkdir(join(rootDir, dirname(f.path)), { recursive: true });
    await writeFile(join(rootDir, f.path), f.contents, { mode: f.mode });
  }
}

/** Starts a stand-in with a master's rendered unit flags; resolves on its first stdout line, rejects when it exits first. */
function startStandIn(component: string, minor: number, args: string[], root: string): Promise<{ line: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', STAND_IN, component, String(minor), ...args], {
    env: { ...process.env, STAND_IN_ROOT: root, STAND_IN_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve({ line: d.toString().trim(), child }));
    child.once('exit', (code) => reject(new Error(`${component} stand-in exited ${String(code)}: ${stderr.trim()}`)));
  });
}

function flagsOf(host: RenderedHost, component: string): string[] {
  const unit = host.files.find((f) => f.path.endsWith(`/${component}.service`));
  assert.ok(unit);
  return unitFlags(unit.contents);
}

let master: RenderedHost;
const root = (): string => join(ws.dir, 'root');

before(async () => {
  ws = await workspace('stand-ins');
  port = await freePort();
  cluster = await ws.writeSpec(modernSpec().replace('https://api.pkitest.example:6443', `https://127.0.0.1:${port}`));
  pki = await ensureClusterPki(cluster, plannedHosts(cluster));
  credentials = (await ensureControlPlanePki(cluster, masters, { endpoint: { address: '127.0.0.1', dnsName: 'api.pkitest.example' } })).credentials;
  const m1 = masters[0];
  assert.ok(m1);
  master = renderControlPlaneHost({ cluster, masters, etcdServers: masters.map((m) => `https://${m.privateAddress ?? ''}:2379`), credentials }, m1);
  await writeTree(root(), master.files);
  const worker = renderCluster({ cluster, hosts: plannedHosts(cluster), credentials: pki.credentials }).hosts.values().next().value;
  assert.ok(worker);
  await writeTree(root(), worker.files);
});

after(async () => {
  await stopAll();
  await rm(join(ws.dir, 'root'), { recursive: true, force: true });
  await ws.cleanup();
});

test('kube-apiserver, kube-controller-manager and kube-scheduler stand-ins accept the rendered 1.36 flags and files; the two controllers reach the API through their kubeconfigs', async () => {
  // all three at once: the controllers keep trying until the API server stand-in listens
  const lines = await Promise.all((['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).map(async (c) => (await startStandIn(c, 36, flagsOf(master, c), root())).line));
  assert.deepEqual(lines, ['ready', 'connected', 'connected']);
});

/** The worker's kubelet kubeconfig with its absolute certificate paths moved under the test root. */
async function workerKubeconfig(): Promise<string> {
  const worker = renderCluster({ cluster, hosts: plannedHosts(cluster), credentials: pki.credentials }).hosts.values().next().value;
  const k = worker?.files.find((f) => f.path === '/var/lib/kubelet/kubeconfig');
  assert.ok(k);
  assert.match(k.contents, new RegExp(`server: https://127\\.0\\.0\\.1:${port}\\n`), 'the worker kubeconfig names the endpoint');
  const file = join(ws.dir, 'worker.kubeconfig');
  await writeFile(file, k.contents.replaceAll(' /etc/kubernetes/', ` ${root()}/etc/kubernetes/`));
  return file;
}

test("a worker's rendered kubeconfig reaches the endpoint: kubectl verifies the serving certificate and is known as system:node:w1", async () => {
  const file = await workerKubeconfig();
  const r = spawnSync('kubectl', ['--kubeconfig', file, 'get', '--raw', '/version'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { user: string; groups: string | string[]; standIn: boolean };
  assert.deepEqual([v.user, v.groups, v.standIn], ['system:node:w1', 'system:nodes', true]);
  const ready = spawnSync('kubectl', ['--kubeconfig', file, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(ready.stdout, 'ok');
});

test('kubectl refuses the endpoint when its kubeconfig trusts another CA (etcd-ca.pem): the serving certificate is what it verifies', async () => {
  const file = await workerKubeconfig();
  const wrong = join(ws.dir, 'wrong-ca.kubeconfig');
  const { readFile } = await import('node:fs/promises');
  await writeFile(wrong, (await readFile(file, 'utf8')).replace(/certificate-authority: .*/, `certificate-authority: ${pki.paths.etcdCaCert ?? ''}`));
  const r = spawnSync('kubectl', ['--kubeconfig', wrong, 'get', '--raw', '/version'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /certificate signed by unknown authority|x509/);
});

function get(path: string, opts: { servername: string; cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: opts.servername,
        // the endpoint's DNS name, resolved to loopback: the certificate must carry the name
        lookup: (_h: string, o: unknown, cb: (e: null, a: string | { address: string; family: number }[], f?: number) => void) =>
          (o as { all?: boolean }).all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4),
        port,
        path,
        ca: credentials.caPem,
        cert: opts.cert,
        key: opts.key,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('by its DNS name the endpoint verifies too; without a client certificate only the health endpoints answer, and a front-proxy certificate is no cluster client', async () => {
  assert.deepEqual(await get('/readyz', { servername: 'api.pkitest.example' }), { status: 200, body: 'ok' });
  assert.equal((await get('/version', { servername: 'api.pkitest.example' })).status, 401);
  assert.equal((await get('/version', { servername: 'api.pkitest.example', cert: credentials.frontProxyClient.certPem, key: credentials.frontProxyClient.keyPem })).status, 401);
  const admin = await get('/version', { servername: 'kubernetes.default.svc.cluster.local', cert: pki.admin.certPem, key: pki.admin.keyPem });
  assert.equal(admin.status, 200);
  await assert.rejects(get('/readyz', { servername: 'not-in-the-certificate.example' }), /altnames|Hostname\/IP does not match/);
});

async function stopAll(): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
}

for (const [profile, version] of [['seed', '1.8.0']] as const) {
  test(`the ${profile} ${version} control plane starts on the stand-ins of that minor too (older flags and file formats)`, async () => {
    await stopAll();
    const minor = Number(version.split('.')[1]);
    const text = modernSpec()
      .replace('profile: modern', `profile: ${profile}`)
      .replace(`kubernetes: { apiServer: "https://127.0.0.1:${port}" }`, '')
      .replace('https://api.pkitest.example:6443', `https://127.0.0.1:${port}`)
      .replace(/kubernetes: \{ apiServer: "([^"]+)" \}/, `kubernetes: { apiServer: "$1", version: "${version}" }`);
    const c = await ws.writeSpec(text);
    const m1 = masters[0];
    assert.ok(m1);
    const host = renderControlPlaneHost({ cluster: c, masters, etcdServers: ['https://10.0.1.1:2379'], credentials }, m1);
    const dir = join(ws.dir, `root-${profile}-${minor}`);
    await writeTree(dir, host.files);
    // all three at once: the controllers keep trying until the API server stand-in listens
    const lines = await Promise.all((['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).map(async (c) => (await startStandIn(c, minor, flagsOf(host, c), dir)).line));
    assert.deepEqual(lines, ['ready', 'connected', 'connected']);
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });
}

test('planted: the stand-in refuses a flag its minor removed, and a key that belongs to another certificate', async () => {
  const args = flagsOf(master, 'kube-apiserver');
  const swapped = args.map((a) => (a.startsWith('--tls-private-key-file=') ? '--tls-private-key-file=/etc/kubernetes/pki/apiserver-kubelet-client-key.pem' : a));
  await Promise.all([
    assert.rejects(startStandIn('kube-apiserver', 36, [...args, '--kubelet-https=true'], root()), /unknown flag: --kubelet-https \(1\.36: removed/),
    assert.rejects(startStandIn('kube-apiserver', 36, swapped, root()), /serving certificate: .*apiserver-kubelet-client-key\.pem does not belong to/),
    assert.rejects(startStandIn('kube-scheduler', 36, ['--config=/etc/kubernetes/missing.yaml'], root()), /cannot read \/etc\/kubernetes\/missing\.yaml: ENOENT/),
  ]);
});

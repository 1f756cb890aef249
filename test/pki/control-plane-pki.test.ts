// The control plane's PKI judged by openssl: every certificate chains to the CA that must sign it
// (cluster, etcd, front-proxy), kube-apiserver's serving certificate carries exactly the SANs the
// endpoint, the Service and the masters need, the keys are what the flags expect, and a re-run keeps
// everything byte for byte; only a changed master list re-issues the serving certificate.
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureClusterPki } from '../../src/pki/cluster-pki.ts';
import { controlPlaneCertNames } from '../../src/pki/control-plane-certificates.ts';
import { encryptionKeyFile, serviceAccountFiles } from '../../src/pki/control-plane-keys.ts';
import { ensureControlPlanePki, frontProxyCaFiles, planControlPlanePki } from '../../src/pki/control-plane-pki.ts';
import { barePaths } from '../../src/pki/pki-files.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { InputError } from '../../src/errors.ts';
import { modernSpec, tool, workspace, type Workspace } from './pki-workspace.ts';

const master = (i: number): Host => ({ name: `m${i}`, address: `203.0.113.2${i}`, publicAddress: `203.0.113.2${i}`, privateAddress: `10.0.1.${i}`, port: 22, user: 'root' });
const masters = [master(1), master(2), master(3)];
const endpoint = { address: '203.0.113.50', dnsName: 'api.pkitest.example' };

let ws: Workspace;
let cluster: Cluster;

before(async () => {
  ws = await workspace('control-plane');
  cluster = await ws.writeSpec(modernSpec());
  await ensureClusterPki(cluster, plannedHosts(cluster));
  await ensureControlPlanePki(cluster, masters, { endpoint });
});
after(() => ws.cleanup());

const cert = (name: string): string => barePaths(ws.pki, name).cert;

function x509(file: string, ...args: string[]): string {
  const r = tool('openssl', ['x509', '-noout', '-in', file, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('openssl verify: each control-plane certificate chains to its CA, and to no other', () => {
  const caOf: Record<string, string> = {
    [controlPlaneCertNames.apiserver]: 'ca.pem',
    [controlPlaneCertNames.apiserverKubeletClient]: 'ca.pem',
    [controlPlaneCertNames.controllerManager]: 'ca.pem',
    [controlPlaneCertNames.scheduler]: 'ca.pem',
    [controlPlaneCertNames.apiserverEtcdClient]: 'etcd-ca.pem',
    [controlPlaneCertNames.frontProxyClient]: 'front-proxy-ca.pem',
  };
  for (const [name, ca] of Object.entries(caOf)) {
    for (const other of ['ca.pem', 'etcd-ca.pem', 'front-proxy-ca.pem']) {
      const r = tool('openssl', ['verify', '-CAfile', join(ws.pki, other), cert(name)]);
      if (other === ca) assert.equal(r.code, 0, `${name} against ${other}: ${r.stderr}`);
      else assert.notEqual(r.code, 0, `${name} must not verify against ${other}`);
    }
  }
});

test("kube-apiserver's serving certificate has every SAN: endpoint, Service IP and names, each master, 127.0.0.1", () => {
  const sans = x509(cert(controlPlaneCertNames.apiserver), '-ext', 'subjectAltName').split('\n')[1]?.trim().split(/,\s*/).sort();
  const want = [
    'DNS:api.pkitest.example', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
    'DNS:m1', 'DNS:m2', 'DNS:m3',
    'IP Address:203.0.113.50', 'IP Address:10.32.0.1', 'IP Address:127.0.0.1',
    'IP Address:203.0.113.21', 'IP Address:203.0.113.22', 'IP Address:203.0.113.23', 'IP Address:10.0.1.1', 'IP Address:10.0.1.2', 'IP Address:10.0.1.3',
  ].sort();
  assert.deepEqual(sans, want);
  assert.match(x509(cert(controlPlaneCertNames.apiserver), '-ext', 'extendedKeyUsage'), /TLS Web Server Authentication/);
  assert.match(x509(cert(controlPlaneCertNames.apiserver), '-text'), /NIST CURVE: P-256/);
});

test('the client certificates carry the users RBAC binds: the kubelet-API user, system:kube-controller-manager, system:kube-scheduler, front-proxy-client', () => {
  const subject = (name: string): string => x509(cert(name), '-subject', '-nameopt', 'compat').trim();
  assert.match(subject(controlPlaneCertNames.apiserverKubeletClient), /CN=kube-apiserver-kubelet-client$/);
  assert.doesNotMatch(subject(controlPlaneCertNames.apiserverKubeletClient), /system:masters/);
  assert.match(subject(controlPlaneCertNames.controllerManager), /O=system:kube-controller-manager\/.*CN=system:kube-controller-manager$/);
  assert.match(subject(controlPlaneCertNames.scheduler), /O=system:kube-scheduler\/.*CN=system:kube-scheduler$/);
  assert.match(subject(controlPlaneCertNames.frontProxyClient), /CN=front-proxy-client$/);
  assert.match(x509(frontProxyCaFiles(ws.pki).cert, '-text'), /CA:TRUE/);
});

test('the service-account key is a P-256 key whose public half is the file kube-apiserver verifies tokens with', async () => {
  const files = serviceAccountFiles(ws.pki);
  const check = tool('openssl', ['ec', '-check', '-noout', '-in', files.key]);
  assert.equal(check.code, 0, check.stderr);
  const derived = tool('openssl', ['pkey', '-in', files.key, '-pubout']);
  assert.equal(derived.stdout, await readFile(files.pub, 'utf8'));
  assert.equal((await stat(files.key)).mode & 0o777, 0o600);
  assert.equal((await stat(encryptionKeyFile(ws.pki))).mode & 0o777, 0o600);
  assert.equal(Buffer.from((await readFile(encryptionKeyFile(ws.pki), 'utf8')).trim(), 'base64').length, 32);
});

async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await readdir(ws.pki, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const p = join(f.parentPath, f.name);
    out.set(relative(ws.pki, p), await readFile(p, 'utf8'));
  }
  return out;
}

test('a re-run keeps every file byte for byte; a new master re-issues only the serving certificate', async () => {
  const before1 = await snapshot();
  const again = await ensureControlPlanePki(cluster, masters, { endpoint });
  assert.deepEqual(again.decisions.filter((d) => d.action !== 'keep'), []);
  assert.deepEqual(await snapshot(), before1);

  const plan = await planControlPlanePki(cluster, [...masters, master(4)], { endpoint });
  assert.deepEqual(plan.decisions.filter((d) => d.action !== 'keep').map((d) => [d.name, d.action]), [[controlPlaneCertNames.apiserver, 'reissue']]);
  assert.match(plan.decisions.find((d) => d.name === controlPlaneCertNames.apiserver)?.reason ?? '', /missing DNS:m4, IP:203\.0\.113\.24, IP:10\.0\.1\.4/);
  assert.equal(plan.credentials, undefined, 'a plan with a pending re-issue hands out no credentials');
  assert.deepEqual(await snapshot(), before1, 'planning writes nothing');
});

test('a damaged service-account public key is written again from the key; the key itself stays', async () => {
  const files = serviceAccountFiles(ws.pki);
  const key = await readFile(files.key, 'utf8');
  const pub = await readFile(files.pub, 'utf8');
  await writeFile(files.pub, 'garbage\n');
  const r = await ensureControlPlanePki(cluster, masters, { endpoint });
  assert.deepEqual(r.decisions.filter((d) => d.action !== 'keep').map((d) => d.name), ['control-plane/service-account']);
  assert.equal(await readFile(files.pub, 'utf8'), pub);
  assert.equal(await readFile(files.key, 'utf8'), key);
});

test('a damaged encryption key is an error naming the file, never a new key, and never echoes the file', async () => {
  const file = encryptionKeyFile(ws.pki);
  const good = await readFile(file, 'utf8');
  await writeFile(file, 'c2VjcmV0LWJ1dC1zaG9ydA==\n');
  try {
    await assert.rejects(ensureControlPlanePki(cluster, masters, { endpoint }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, new RegExp(`^${file}: not a base64-encoded 32-byte key`));
      assert.doesNotMatch(`${e.message} ${e.hint ?? ''}`, /c2VjcmV0/);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), 'c2VjcmV0LWJ1dC1zaG9ydA==\n');
  } finally {
    await writeFile(file, good);
  }
});

test('without a cluster CA, ensuring is an error pointing at pki init and planning says every piece is to be issued', async () => {
  const empty = await workspace('control-plane-empty');
  try {
    const c = await empty.writeSpec(modernSpec());
    await assert.rejects(ensureControlPlanePki(c, masters), /no cluster CA in the PKI directory/);
    const plan = await planControlPlanePki(c, masters);
    assert.deepEqual([...new Set(plan.decisions.map((d) => d.action))], ['issue']);
    assert.equal(plan.decisions.length, 9);
    await assert.rejects(readdir(empty.pki), /ENOENT/);
  } finally {
    await empty.cleanup();
  }
});

test("a spec's controlPlane section drives both: its masters by role, etcd stacked on their private addresses, its endpoint's name in the serving certificate", async () => {
  const { controlPlaneRenderInput } = await import('../../src/render/control-plane/input.ts');
  const { renderControlPlane } = await import('../../src/render/control-plane/render-control-plane.ts');
  const { workerHosts } = await import('../../src/spec/host.ts');
  const own = await workspace('control-plane-spec');
  try {
    const text = `${modernSpec().replace(/^kubernetes: .*\n/m, 'kubernetes: {}\n')}controlPlane:
  hosts:
    - { name: cp1, address: 198.51.100.1, privateAddress: 10.9.0.1 }
    - { name: cp2, address: 198.51.100.2, privateAddress: 10.9.0.2 }
    - { name: cp3, address: 198.51.100.3, privateAddress: 10.9.0.3 }
  endpoint: { dnsName: api.spec.example }
`;
    const c = await own.writeSpec(text);
    const hosts = plannedHosts(c);
    await ensureClusterPki(c, workerHosts(hosts));
    const input = controlPlaneRenderInput(c, hosts);
    assert.deepEqual(input.masters.map((m) => m.name), ['cp1', 'cp2', 'cp3']);
    assert.deepEqual(input.etcdServers, ['https://10.9.0.1:2379', 'https://10.9.0.2:2379', 'https://10.9.0.3:2379']);
    const { credentials } = await ensureControlPlanePki(c, input.masters);
    const file = barePaths(own.pki, controlPlaneCertNames.apiserver).cert;
    const sans = x509(file, '-ext', 'subjectAltName');
    assert.match(sans, /DNS:api\.spec\.example/);
    assert.match(sans, /IP Address:10\.9\.0\.3/);
    const rendered = renderControlPlane({ ...input, credentials });
    assert.deepEqual([...rendered.hosts.keys()], ['cp1', 'cp2', 'cp3']);
    assert.deepEqual([...rendered.hosts.values()].map((h) => h.name), ['cp1', 'cp2', 'cp3']);
    assert.match(rendered.hosts.get('cp2')?.files.find((f) => f.path.endsWith('/kube-apiserver.service'))?.contents ?? '', /--advertise-address=10\.9\.0\.2 /);
  } finally {
    await own.cleanup();
  }
});

test('with a controlPlane section, ensureClusterPki and planClusterPki cover the control plane too: pki plan/issue and up list it, a re-run keeps it', async () => {
  const { planClusterPki } = await import('../../src/pki/cluster-pki.ts');
  const own = await workspace('control-plane-cluster-pki');
  try {
    const c = await own.writeSpec(`${modernSpec().replace(/^kubernetes: .*\n/m, 'kubernetes: {}\n')}controlPlane:
  hosts:
    - { name: cp1, address: 198.51.100.1, privateAddress: 10.9.0.1 }
  endpoint: { address: 198.51.100.100 }
`);
    const hosts = plannedHosts(c);
    const planned = await planClusterPki(c, hosts);
    const cpNames = ['front-proxy-ca', ...Object.values(controlPlaneCertNames), 'control-plane/service-account', 'control-plane/encryption-key'];
    for (const n of cpNames) assert.equal(planned.decisions.find((d) => d.name === n)?.action, 'issue', n);
    const first = await ensureClusterPki(c, hosts);
    assert.ok(first.controlPlane, 'ClusterPki carries the control plane material');
    assert.match(x509(barePaths(own.pki, controlPlaneCertNames.apiserver).cert, '-ext', 'subjectAltName'), /IP Address:198\.51\.100\.100/);
    const again = await ensureClusterPki(c, hosts);
    assert.deepEqual(again.decisions.filter((d) => d.action !== 'keep').map((d) => d.name), []);
    assert.equal(again.controlPlane?.encryptionKey, first.controlPlane.encryptionKey);
    const fp = again.decisions.find((d) => d.name === 'front-proxy-ca');
    assert.equal(typeof fp?.daysLeft, 'number', 'the front-proxy CA shows its days left like the other CAs');
  } finally {
    await own.cleanup();
  }
});

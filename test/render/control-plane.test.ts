// The control-plane render: goldens for the seed (1.8) and modern (1.23, 1.36) profiles, every unit
// through systemd-analyze verify, the kubeconfigs through kubectl, the RBAC objects through the
// vendored Kubernetes OpenAPI judge for every minor, and the secrets where they belong.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubeletApiRbacObjects, KUBELET_API_RBAC_PATH } from '../../src/render/control-plane/kubelet-api-rbac.ts';
import { ENCRYPTION_KEY_PLACEHOLDER } from '../../src/render/control-plane/master-host.ts';
import { controlPlanePaths } from '../../src/render/control-plane/paths.ts';
import { renderControlPlane } from '../../src/render/control-plane/render-control-plane.ts';
import { allMinors } from '../../src/spec/matrix.ts';
import type { ControlPlaneCredentials } from '../../src/spec/credentials.ts';
import { assertGolden, filesText, hostPlanText } from '../support/golden.ts';
import { controlPlaneInput } from '../support/control-plane-input.ts';
import { verifyUnits } from '../support/systemd-verify.ts';
import { validateKubernetesObject } from '../contracts/kubernetes/validate-object.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-control-plane-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cases = [
  { name: 'seed-1.8', example: 'seed', version: undefined },
  { name: 'modern-1.23', example: 'digitalocean', version: '1.23.0' },
  { name: 'modern-1.36', example: 'digitalocean', version: '1.36.0' },
] as const;

for (const c of cases) {
  test(`the ${c.name} control plane renders as its golden (first master, cluster files)`, () => {
    const r = renderControlPlane(controlPlaneInput(c.example, c.version));
    const first = r.hosts.get('master-1');
    assert.ok(first);
    assertGolden('control-plane', c.name, [filesText(first.files, `${first.name}:`), hostPlanText(first), filesText(r.cluster, 'cluster/')].join('\n'));
  });

  test(`every ${c.name} control-plane unit passes systemd-analyze verify with empty stderr`, async () => {
    const host = renderControlPlane(controlPlaneInput(c.example, c.version)).hosts.get('master-1');
    assert.ok(host);
    const names = host.units.map((u) => `${u.name}.service`);
    assert.deepEqual(names, ['kube-apiserver.service', 'kube-controller-manager.service', 'kube-scheduler.service']);
    const r = await verifyUnits(host.files, names);
    assert.equal(r.stderr, '', `${r.command}\n${r.stderr}`);
    assert.equal(r.code, 0, r.command);
  });
}

test('the controller-manager and scheduler kubeconfigs read back through kubectl: the local API server, their own users and certificate paths', () => {
  const host = renderControlPlane(controlPlaneInput('digitalocean', '1.36.0')).hosts.get('master-1');
  assert.ok(host);
  const p = controlPlanePaths.modern;
  for (const [path, user, cert] of [[p.controllerManagerKubeconfig, 'system:kube-controller-manager', p.controllerManagerCert], [p.schedulerKubeconfig, 'system:kube-scheduler', p.schedulerCert]] as const) {
    const f = host.files.find((x) => x.path === path);
    assert.ok(f, path);
    const file = join(dir, path.replaceAll('/', '_'));
    writeFileSync(file, f.contents);
    const v = JSON.parse(execFileSync('kubectl', ['config', 'view', '--minify', '--raw', '--kubeconfig', file, '-o', 'json'], { encoding: 'utf8' })) as {
      clusters: { cluster: { server: string; 'certificate-authority': string } }[];
      users: { name: string; user: { 'client-certificate': string } }[];
    };
    assert.equal(v.clusters[0]?.cluster.server, 'https://127.0.0.1:6443');
    assert.equal(v.clusters[0]?.cluster['certificate-authority'], p.ca);
    assert.equal(v.users[0]?.name, user);
    assert.equal(v.users[0]?.user['client-certificate'], cert);
  }
});

test('the kubelet-API ClusterRole and ClusterRoleBinding fit the OpenAPI schema of every minor 1.8 … current', () => {
  const problems: string[] = [];
  for (const { minor } of allMinors()) {
    for (const o of kubeletApiRbacObjects()) for (const p of validateKubernetesObject(o, minor)) problems.push(`1.${minor} ${String(o['kind'])}: ${p}`);
  }
  assert.deepEqual(problems, []);
  const rendered = renderControlPlane(controlPlaneInput('seed')).cluster.find((f) => f.path === KUBELET_API_RBAC_PATH);
  assert.deepEqual(parseAllDocuments(rendered?.contents ?? '').map((d) => d.toJS() as unknown), kubeletApiRbacObjects());
});

test('planted: a misspelled RBAC field and an unknown subject kind fail the judge', () => {
  const [role, binding] = structuredClone(kubeletApiRbacObjects()) as [Record<string, unknown>, Record<string, unknown>];
  (role['rules'] as Record<string, unknown>[])[0] = { apiGroup: [''], resources: ['nodes/proxy'], verbs: ['*'] };
  assert.match(validateKubernetesObject(role, 35).join('\n'), /unknown field "apiGroup"/);
  delete binding['roleRef'];
  assert.match(validateKubernetesObject(binding, 8).join('\n'), /missing required field "roleRef"/);
});

function fakeCredentials(): ControlPlaneCredentials {
  const tls = (n: string): { certPem: string; keyPem: string } => ({ certPem: `CERT ${n}\n`, keyPem: `KEY ${n}\n` });
  return {
    caPem: 'CA\n', caKeyPem: 'CA KEY\n', etcdCaPem: 'ETCD CA\n', frontProxyCaPem: 'FP CA\n',
    apiserver: tls('apiserver'), apiserverKubeletClient: tls('kubelet-client'), apiserverEtcdClient: tls('etcd-client'),
    controllerManager: tls('cm'), scheduler: tls('sched'), frontProxyClient: tls('fp'),
    serviceAccount: { publicKeyPem: 'SA PUB\n', privateKeyPem: 'SA KEY\n' },
    encryptionKey: Buffer.alloc(32, 7).toString('base64'),
  };
}

test('with credentials every private key, the CA key and the encryption config are secret 0600 files; no key reaches a unit', () => {
  const host = renderControlPlane(controlPlaneInput('digitalocean', '1.36.0', fakeCredentials())).hosts.get('master-1');
  assert.ok(host);
  const secrets = host.files.filter((f) => f.secret).map((f) => f.path).sort();
  const p = controlPlanePaths.modern;
  assert.deepEqual(secrets, [
    p.apiserverEtcdClientKey, p.apiserverKey, p.apiserverKubeletClientKey, p.caKey, p.encryptionConfig, p.frontProxyClientKey,
    p.controllerManagerKey, p.schedulerKey, p.serviceAccountPrivateKey,
  ].sort());
  for (const f of host.files) {
    if (f.secret) assert.equal(f.mode, 0o600, f.path);
    if (!f.secret) assert.doesNotMatch(f.contents, /^KEY |CA KEY|SA KEY|BwcHBwcH/m, `${f.path} carries no secret`);
  }
  const enc = host.files.find((f) => f.path === p.encryptionConfig);
  assert.ok(enc);
  assert.ok(enc.contents.includes(Buffer.alloc(32, 7).toString('base64')));
  assert.ok(!enc.contents.includes(ENCRYPTION_KEY_PLACEHOLDER));
  // a new certificate restarts the units that read it, and only those
  const restartedBy = (path: string): string[] => host.units.filter((u) => u.dependsOn.includes(path)).map((u) => u.name);
  assert.deepEqual(restartedBy(p.apiserverCert), ['kube-apiserver']);
  assert.deepEqual(restartedBy(p.schedulerCert), ['kube-scheduler']);
  assert.deepEqual(restartedBy(p.ca), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
});

test('bad input: no masters, no etcd, or a master twice is an InputError naming controlPlane', () => {
  const input = controlPlaneInput('digitalocean', '1.36.0');
  assert.throws(() => renderControlPlane({ ...input, masters: [] }), /^InputError: controlPlane: no control-plane hosts/);
  assert.throws(() => renderControlPlane({ ...input, etcdServers: [] }), /controlPlane: no etcd client URLs/);
  assert.throws(() => renderControlPlane({ ...input, masters: [input.masters[0], input.masters[0]].filter((m) => m !== undefined) }), /controlPlane: master-1 appears twice/);
});

test('a stacked master is one host: its etcd member first, then the API-server trio; two different files on one path are refused', async () => {
  const { composeHost } = await import('../../src/render/control-plane/compose-host.ts');
  const { renderEtcdMember, etcdPeerUrl } = await import('../../src/render/etcd-member.ts');
  const input = controlPlaneInput('digitalocean', '1.36.0');
  const master = input.masters[0];
  assert.ok(master);
  const tls = { certPem: 'CERT\n', keyPem: 'KEY\n' };
  const initialCluster = input.masters.map((m) => ({ name: m.name, peerUrl: etcdPeerUrl(m) }));
  const etcd = renderEtcdMember({ cluster: input.cluster, member: master, initialCluster, state: 'new', tls: { caPem: 'CA\n', peer: tls, server: tls } });
  const masterHost = renderControlPlane(input).hosts.get('master-1');
  assert.ok(masterHost);
  const both = composeHost(etcd, masterHost);
  assert.deepEqual(both.units.map((u) => u.name), [...etcd.units.map((u) => u.name), 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  assert.equal(both.files.length, etcd.files.length + masterHost.files.length);
  assert.deepEqual(both.binaries.map((b) => b.name), [...etcd.binaries.map((b) => b.name), 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  const clash = { ...masterHost, files: [{ ...(etcd.files[0] ?? { path: '/x', mode: 0o644, contents: '' }), contents: 'other\n' }] };
  assert.throws(() => composeHost(etcd, clash), /is rendered twice with different contents/);
});

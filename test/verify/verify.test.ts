// verify against the Kubernetes API test double, with stand-in kubelets (test doubles) posting
// heartbeats through kubewright's PKI: passes when all heartbeat, exit 3 when a kubelet stops,
// when a kubelet's certificate is from another CA or names another node, and when DNS is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { renderCluster } from '../../src/render/cluster.ts';
import { applyDnsAddon, manifestObjects } from '../../src/addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../../src/verify/kube-client.ts';
import { verifyCluster } from '../../src/verify/verify-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { eventually, foreignCredential, startVerifyFixture, type VerifyFixture } from './verify-fixture.ts';

describe('verify (modern profile) against the API test double', () => {
  let fx: VerifyFixture;
  const ready = (name: string): boolean =>
    fx.api.node(name)?.['status'] !== undefined &&
    ((fx.api.node(name)?.['status'] as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

  before(async () => {
    fx = await startVerifyFixture();
    for (const h of fx.hosts) {
      const cred = fx.pki.credentials.kubelet[h.name];
      assert.ok(cred, `kubelet certificate for ${h.name}`);
      fx.startKubelet(h.name, cred);
    }
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    await eventually(() => fx.hosts.every((h) => ready(h.name)), 30_000, 'all nodes Ready');
  });
  after(async () => fx?.close());

  test('verify passes when every node heartbeats and DNS is installed', async () => {
    const r = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^NAME\s+STATUS\s+AGE\s+VERSION$/m);
    for (const h of fx.hosts) assert.match(r.stdout, new RegExp(`^${h.name}\\s+Ready\\s+\\d+s\\s+v1\\.36\\.2$`, 'm'));
    assert.match(r.stdout, /DNS: ok — deployment kube-system\/coredns 2\/2 available, service kube-dns at 10\.32\.0\.10/);
    assert.match(r.stdout, /\/readyz ok/);
    assert.match(r.stdout, /verify: ok/);
  });

  test('each node authenticated as system:node:<its name>, and verify as admin in system:masters', () => {
    for (const h of fx.hosts) assert.deepEqual(fx.api.nodeWriters(h.name), [`system:node:${h.name}`]);
    const reads = fx.api.calls.filter((c) => c.path === '/api/v1/nodes' && c.method === 'GET');
    assert.ok(reads.length > 0);
    for (const c of reads) assert.deepEqual([c.user, c.groups], ['admin', ['system:masters']]);
  });

  test('applying the DNS addon again changes nothing', async () => {
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    const results = await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    assert.ok(results.length >= 5, `applied ${results.length} objects`);
    assert.deepEqual(results.filter((r) => r.action !== 'unchanged'), []);
    const deployment = fx.api.objects.get('apps/v1/deployments/kube-system/coredns');
    assert.deepEqual((deployment?.metadata['managedFields'] as { manager: string }[]).map((m) => m.manager), ['kubewright']);
  });

  test('verify --output json reports every node', async () => {
    const r = await runCli('verify', '-f', fx.specFile, '--output', 'json', '--wait', '30s');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; nodes: { name: string; status: string }[] };
    assert.deepEqual(report.nodes.map((n) => [n.name, n.status]), fx.hosts.map((h) => [h.name, 'Ready']));
  });

  test('verify fails with exit 3 and a reason when a node\'s kubelet is stopped', async () => {
    await fx.stopKubelet('w2');
    await eventually(() => !ready('w2'), 30_000, 'w2 NotReady');
    const r = await runCli('verify', '-f', fx.specFile);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /^w2\s+NotReady\s/m);
    assert.match(r.stdout, /^w0\s+Ready\s/m);
    assert.match(r.stdout, /w2: Ready=Unknown: Kubelet stopped posting node status\. \(last heartbeat \d+s ago\)/);
    assert.match(r.stderr, /error: verify: 1 check failed: w2:/);
    assert.match(r.stderr, /try --wait 2m/, 'a node that is only NotReady may need a moment: the --wait hint stays');
    // and it passes again once the kubelet is back
    const cred = fx.pki.credentials.kubelet['w2'];
    assert.ok(cred);
    fx.startKubelet('w2', cred);
    const back = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
    assert.equal(back.code, 0, back.stdout);
  });

  test('a kubelet whose certificate comes from another CA is rejected and its node never registers', async () => {
    const rogue = fx.startKubelet('w7', await foreignCredential('system:node:w7'));
    const tlsRejections = fx.api.calls.filter((c) => c.method === 'TLS').length;
    await eventually(() => fx.api.calls.filter((c) => c.method === 'TLS').length > tlsRejections, 30_000, 'a rejected TLS handshake');
    await eventually(() => rogue.stderr.join('').includes('registering node w7 failed'), 30_000, 'the kubelet to report the failure');
    const r = await runCli('verify', '-f', await fx.specWithHosts(['w0', 'w1', 'w2', 'w7']));
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /^w7\s+<missing>\s+-\s+-$/m);
    assert.match(r.stdout, /w7: not registered with the API server/);
    assert.equal(fx.api.node('w7'), undefined);
    await fx.stopKubelet('w7');
  });

  test('a kubelet with a valid certificate for another node (wrong CN) may not register this node', async () => {
    const cred = fx.pki.credentials.kubelet['w0'];
    assert.ok(cred);
    const impostor = fx.startKubelet('w8', cred);
    await eventually(() => impostor.stderr.join('').includes('HTTP 403'), 30_000, 'a 403 for w8');
    assert.match(impostor.stderr.join(''), /node \\"w0\\" is not allowed to modify node \\"w8\\"/);
    const r = await runCli('verify', '-f', await fx.specWithHosts(['w0', 'w1', 'w2', 'w8']));
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /^w8\s+<missing>/m);
    await fx.stopKubelet('w8');
  });

  test('a kubelet reporting another version fails verify with the versions named', async () => {
    const cred = fx.pki.credentials.kubelet['w1'];
    assert.ok(cred);
    await fx.stopKubelet('w1');
    fx.startKubelet('w1', cred, { version: 'v1.35.0' });
    await eventually(() => ((fx.api.node('w1')?.['status'] as { nodeInfo?: { kubeletVersion?: string } }).nodeInfo?.kubeletVersion === 'v1.35.0'), 30_000, 'w1 reporting v1.35.0');
    const r = await runCli('verify', '-f', fx.specFile);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /w1: kubelet v1\.35\.0, expected v1\.36\.2/);
    await fx.stopKubelet('w1');
    fx.startKubelet('w1', cred);
    await eventually(() => ((fx.api.node('w1')?.['status'] as { nodeInfo?: { kubeletVersion?: string } }).nodeInfo?.kubeletVersion === 'v1.36.2'), 30_000, 'w1 back on v1.36.2');
  });

  test('verify fails with exit 3 when the DNS addon is missing', async () => {
    assert.ok(fx.api.deleteObject('apps/v1', 'deployments', 'kube-system', 'coredns'));
    const r = await runCli('verify', '-f', fx.specFile);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /DNS: FAILED — deployment kube-system\/coredns is missing \(the DNS addon is not installed\)/);
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    const again = await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    assert.deepEqual(again.filter((a) => a.action === 'created').map((a) => a.name), ['coredns']);
  });

  test('verify fails with exit 3 while the DNS Deployment\'s replicas are not ready, and passes once they are', async () => {
    // pods that never pass their readiness probe (e.g. a crash-looping image)
    fx.api.setReadyReplicas('apps/v1', 'kube-system', 'coredns', 0);
    try {
      const r = await runCli('verify', '-f', fx.specFile);
      assert.equal(r.code, 3, r.stdout);
      assert.match(r.stdout, /DNS: FAILED — deployment kube-system\/coredns 0\/2 available \(Deployment does not have minimum availability\.\)/);
      assert.match(r.stderr, /error: verify: 1 check failed: DNS:/);
      // one of two ready is within the rendered maxUnavailable: 1
      fx.api.setReadyReplicas('apps/v1', 'kube-system', 'coredns', 1);
      const one = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
      assert.equal(one.code, 0, one.stdout);
      assert.match(one.stdout, /deployment kube-system\/coredns 1\/2 available/);
    } finally {
      fx.api.setReadyReplicas('apps/v1', 'kube-system', 'coredns', undefined);
    }
    const back = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
    assert.equal(back.code, 0, back.stdout);
    assert.match(back.stdout, /deployment kube-system\/coredns 2\/2 available/);
  });

  test('verify fails when the DNS service is not at clusterDNS', async () => {
    const svc = fx.api.objects.get('v1/services/kube-system/kube-dns');
    assert.ok(svc);
    const spec = svc['spec'] as { clusterIP: string };
    spec.clusterIP = '10.32.0.53';
    try {
      const report = await verifyCluster({ cluster: fx.cluster, hosts: fx.hosts, kubeConfig: adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin) });
      assert.equal(report.ok, false);
      assert.match(report.dns.detail, /clusterIP 10\.32\.0\.53, expected clusterDNS 10\.32\.0\.10/);
    } finally {
      spec.clusterIP = '10.32.0.10';
    }
  });

  test('kubewright kubeconfig writes a private admin kubeconfig that verify can use', async () => {
    const out = join(fx.dir, 'admin.kubeconfig');
    const w = await runCli('kubeconfig', '-f', fx.specFile, '--out', out);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const r = await runCli('verify', '-f', fx.specFile, '--kubeconfig', out, '--wait', '30s');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(fx.api.calls.some((c) => c.user === 'admin'));
    // and kubectl (Debian's) reads it and reaches the API with it
    const kubectl = promisify(execFile);
    const { stdout } = await kubectl('kubectl', ['--kubeconfig', out, '--cache-dir', join(fx.dir, 'kube-cache'), 'get', '--raw', '/version'], { timeout: 20_000 });
    assert.equal((JSON.parse(stdout) as { gitVersion: string }).gitVersion, 'v1.36.2');
    // the post's last check, by hand: kubectl get nodes
    const nodes = await kubectl('kubectl', ['--kubeconfig', out, '--cache-dir', join(fx.dir, 'kube-cache'), 'get', 'nodes'], { timeout: 20_000 });
    assert.match(nodes.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    for (const h of fx.hosts) assert.match(nodes.stdout, new RegExp(`^${h.name}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.36\\.2$`, 'm'));
  });

  test('flannel leases are checked when a lease lookup is given', async () => {
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    const report = await verifyCluster({
      cluster: fx.cluster, hosts: fx.hosts, kubeConfig: kc,
      // test double for the etcd lookup: w2 has no lease
      flannelLeases: async (hosts) => ({
        assigned: hosts.slice(0, 2).map((h, i) => ({ host: h, matchedAddress: h.address ?? '', lease: { key: `/flannel.com/network/subnets/10.200.${i}.0-24`, subnet: `10.200.${i}.0/24`, publicIp: h.address, backendType: 'vxlan' } })),
        nodesWithoutLease: hosts.slice(2),
        unmatchedLeases: [],
      }),
    });
    assert.equal(report.flannel.ok, false);
    assert.match(report.flannel.detail, /no lease under \/flannel\.com\/network\/subnets for w2/);
    assert.equal(report.ok, false);
  });
});

describe('verify without a working API', () => {
  test('verify fails with exit 3 when /readyz reports a failing check', async () => {
    const fx = await startVerifyFixture({ api: { failingReadyzCheck: 'etcd' } });
    try {
      const r = await runCli('verify', '-f', fx.specFile);
      assert.equal(r.code, 3);
      assert.match(r.stdout, /NOT READY — \/readyz HTTP 500: etcd failed/);
    } finally {
      await fx.close();
    }
  });

  test('verify without the admin certificate says how to create it (exit 2)', async () => {
    const fx = await startVerifyFixture();
    try {
      const { rm } = await import('node:fs/promises');
      await rm(fx.pki.paths.admin.key);
      const r = await runCli('verify', '-f', fx.specFile);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /admin-key\.pem: cannot read the admin key \(ENOENT\) — create the PKI with `kubewright up/);
    } finally {
      await fx.close();
    }
  });
});

describe('verify (seed profile: the post\'s Kubernetes 1.8) against the API test double', () => {
  let fx: VerifyFixture;
  before(async () => {
    fx = await startVerifyFixture({ profile: 'seed', version: '1.8.0', api: { serverSideApply: false } });
  });
  after(async () => fx?.close());

  test('nodes named by their public IP (--hostname-override) with the shared kubelet certificate pass, with componentstatuses', async () => {
    const shared = fx.pki.credentials.kubelet['w0'];
    assert.ok(shared);
    assert.deepEqual(fx.hosts.map((h) => fx.pki.credentials.kubelet[h.name]?.certPem), fx.hosts.map(() => shared.certPem), 'one shared certificate');
    for (const h of fx.hosts) fx.startKubelet(h.address ?? '', shared, { version: 'v1.8.0' });
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    const applied = await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    assert.ok(applied.some((a) => a.kind === 'Deployment' && a.name === 'kube-dns' && a.action === 'created'));
    const r = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^127\.0\.0\.20\s+Ready\s+\S+\s+v1\.8\.0$/m);
    assert.match(r.stdout, /^scheduler\s+Healthy\s+ok$/m);
    assert.match(r.stdout, /\/healthz ok/);
    assert.match(r.stdout, /deployment kube-system\/kube-dns \d+\/\d+ available, service kube-dns at 10\.32\.0\.10/);
    for (const h of fx.hosts) assert.deepEqual(fx.api.nodeWriters(h.address ?? ''), ['kubelet']);
  });

  test('verify fails with exit 3 when a componentstatus is Unhealthy, naming its error', async () => {
    fx.api.unhealthyComponents.set('scheduler', 'Get http://127.0.0.1:10251/healthz: dial tcp 127.0.0.1:10251: getsockopt: connection refused');
    try {
      const r = await runCli('verify', '-f', fx.specFile);
      assert.equal(r.code, 3, r.stdout);
      assert.match(r.stdout, /^scheduler\s+Unhealthy\s+Get http:\/\/127\.0\.0\.1:10251\/healthz: dial tcp/m);
      assert.match(r.stdout, /^controller-manager\s+Healthy\s+ok$/m);
      assert.match(r.stderr, /componentstatus scheduler: Unhealthy Get http/);
    } finally {
      fx.api.unhealthyComponents.delete('scheduler');
    }
  });

  test('like a 1.8 server, the double does not serve apps/v1 Deployments (the post\'s kube-dns is extensions/v1beta1)', async () => {
    const r = await rawRequest(fx, 'GET', '/apis/apps/v1/namespaces/kube-system/deployments/kube-dns', 'application/json', '');
    assert.equal(r.status, 404, r.body);
    const served = await rawRequest(fx, 'GET', '/apis/extensions/v1beta1/namespaces/kube-system/deployments/kube-dns', 'application/json', '');
    assert.equal(served.status, 200, served.body);
  });

  test('without server-side apply the addon is created, then left unchanged', async () => {
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    const again = await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    assert.ok(again.length >= 2);
    assert.deepEqual(again.filter((a) => a.action !== 'unchanged'), []);
  });
});

describe('the API test double\'s Deployments follow their pods, not their storage', () => {
  let fx: VerifyFixture;
  before(async () => {
    fx = await startVerifyFixture({ hosts: ['w0'] });
  });
  after(async () => fx?.close());

  test('a Deployment stored while no node is Ready has 0 available replicas, and becomes available once a node is Ready', async () => {
    const kc = adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin);
    await applyDnsAddon(kc, renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    const status = (): { availableReplicas?: number; conditions?: { type: string; status: string }[] } => (fx.api.deployment('apps/v1', 'kube-system', 'coredns')?.['status'] ?? {}) as never;
    assert.equal(status().availableReplicas, 0);
    assert.deepEqual(status().conditions?.map((c) => [c.type, c.status]), [['Available', 'False']]);
    const r = await runCli('verify', '-f', fx.specFile);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /deployment kube-system\/coredns 0\/2 available/);
    const cred = fx.pki.credentials.kubelet['w0'];
    assert.ok(cred);
    fx.startKubelet('w0', cred);
    await eventually(() => status().availableReplicas === 2, 30_000, 'coredns available');
    assert.deepEqual(status().conditions?.map((c) => [c.type, c.status]), [['Available', 'True']]);
  });

  test('an object with a field its release does not have is refused (422), as a strict API server does', async () => {
    // sent raw: client-node's typed serializer would drop the unknown field before it left the client
    const deployment = manifestObjects(renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster).find((o) => o.kind === 'Deployment') as unknown as { spec: Record<string, unknown> };
    assert.ok(deployment);
    const apply = (obj: unknown): Promise<{ status: number; body: string }> => rawRequest(fx, 'PATCH', '/apis/apps/v1/namespaces/kube-system/deployments/coredns?fieldManager=kubewright&force=true', 'application/apply-patch+yaml', JSON.stringify(obj));
    const bad = await apply({ ...deployment, spec: { ...deployment.spec, replicaz: 2 } });
    assert.equal(bad.status, 422, bad.body);
    assert.match(bad.body, /Deployment \\"coredns\\" is invalid: \.spec: unknown field \\"replicaz\\"/);
    const good = await apply(deployment);
    assert.ok(good.status === 200 || good.status === 201, good.body);
  });
});

/** One HTTPS request to the fixture's API double as admin, bypassing client-node's typed serializer. */
async function rawRequest(fx: VerifyFixture, method: string, path: string, contentType: string, body: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  const url = new URL(path, fx.cluster.kubernetes.apiServer);
  return new Promise((resolve, reject) => {
    const req = request({ method, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, ca: fx.pki.credentials.caPem, cert: fx.pki.admin.certPem, key: fx.pki.admin.keyPem, headers: { 'content-type': contentType } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

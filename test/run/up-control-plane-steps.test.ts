// up's control-plane steps without machines: where etcd-cluster and control-plane sit in the
// journey and when they skip; the DigitalOcean load balancer's IP settling the endpoint before
// the PKI step, so kube-apiserver's serving certificate carries it (openssl is the judge); and the
// /readyz wait against a real TLS server on loopback (Node's https, a certificate from
// kubewright's PKI). No test doubles.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ensureClusterPki, planClusterPki } from '../../src/pki/cluster-pki.ts';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { controlPlaneCertNames } from '../../src/pki/control-plane-certificates.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { barePaths } from '../../src/pki/pki-files.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { upPhases, upSteps } from '../../src/run/up.ts';
import { controlPlane } from '../../src/run/up/control-plane.ts';
import { etcdCluster } from '../../src/run/up/etcd-cluster.ts';
import { etcdNetwork } from '../../src/run/up/etcd-network.ts';
import { settleEndpoint } from '../../src/run/up/provision.ts';
import { UpContext } from '../../src/run/up/up-phase.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { ApiServerNotReadyError, waitForApiServersReady } from '../../src/verify/api-server-ready.ts';
import { workspace } from '../pki/pki-workspace.ts';

const base = (provider: string, extra = ''): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: steps }
kubernetes: { version: "1.36"${extra.includes('controlPlane') ? '' : ', apiServer: "https://127.0.0.1:6443"'} }
provider: ${provider}
${extra}ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
pki: { dir: ./pki }
`;
const ctxOf = (c: Cluster): UpContext => new UpContext(c, {}, { cluster: c.name, profile: c.profile, ok: false, hosts: [] }, undefined);

test('with a controlPlane section the etcd cluster and the API servers come after the PKI and before flannel\'s config and the workers', () => {
  assert.deepEqual(upSteps, ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify']);
  assert.ok(upPhases.every((p) => p.title.length > 0 && p.title.length <= 80), 'each title fits one --help line');
});

test('without a controlPlane section both control-plane steps skip, and the etcd step stays with etcd.discovery', () => {
  const c = parseCluster(base('{ static: { hosts: [{ name: w1, address: 127.0.0.1 }] } }', 'etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }\n'), '/tmp/steps/cluster.yaml');
  const ctx = ctxOf(c);
  for (const step of [etcdCluster, controlPlane]) assert.match((step.plan(ctx) as { skip: string }).skip, /no controlPlane section/, step.name);
  etcdCluster.skipped?.(ctx, 'x');
  assert.equal(ctx.need('etcdCluster'), undefined, 'the skip records that no cluster was built');
  assert.match((etcdNetwork.plan(ctx) as { run: string }).run, /^\/flannel\.com\/network\/config via the v3 API$/);
});

test('with one: both run, and flannel\'s config goes into the new cluster', () => {
  const c = parseCluster(base('{ lab: { hosts: 1 } }', 'controlPlane: { count: 3 }\n'), '/tmp/steps/cluster.yaml');
  const ctx = ctxOf(c);
  assert.deepEqual(etcdCluster.plan(ctx), { run: '3 member(s) on the masters, peer and client TLS from etcd\'s CA' });
  assert.deepEqual(controlPlane.plan(ctx), { run: '3 master(s), then /readyz on each and at the endpoint' });
  assert.match((etcdNetwork.plan(ctx) as { run: string }).run, /in the new etcd cluster/);
});

test('DigitalOcean, three masters: the load balancer\'s IP becomes the endpoint before the PKI step, and the serving certificate carries it', async () => {
  const own = await workspace('up-lb');
  try {
    const spec = await own.writeSpec(base('{ digitalocean: { domain: example.com } }', 'workers: { count: 1 }\ncontrolPlane: { count: 3 }\n'));
    assert.throws(() => settleEndpoint(spec, {}, []), /the API endpoint is the load balancer's IP, and digitalocean reported none/);
    const settled = settleEndpoint(spec, { loadBalancer: { name: 'kubewright-steps-api', id: 'lb-1', ip: '203.0.113.40', action: 'created' } }, []);
    assert.equal(settled.kubernetes.apiServer, 'https://203.0.113.40:6443');
    assert.notEqual(spec.kubernetes.apiServer, settled.kubernetes.apiServer, 'the spec is not mutated');
    // the context hands later steps the settled cluster once provision has put it
    const ctx = ctxOf(spec);
    assert.equal(ctx.cluster, spec);
    ctx.put('cluster', settled);
    assert.equal(ctx.cluster, settled);
    assert.equal(ctx.spec, spec);

    const hosts = plannedHosts(settled).map((h, i) => ({ ...h, address: `198.51.100.${i + 1}`, privateAddress: `10.10.0.${i + 1}` }));
    const planned = await planClusterPki(settled, hosts);
    assert.equal(planned.decisions.find((d) => d.name === controlPlaneCertNames.apiserver)?.action, 'issue');
    await ensureClusterPki(settled, hosts, { createCa: true });
    const sans = spawnSync('openssl', ['x509', '-in', barePaths(own.pki, controlPlaneCertNames.apiserver).cert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout;
    assert.match(sans, /IP Address:203\.0\.113\.40(,|$)/m);
    assert.doesNotMatch(sans, /invalid/, 'the placeholder host never reaches a certificate');
    // a re-run of up finds the same balancer: nothing re-issued
    const again = await planClusterPki(settleEndpoint(spec, { loadBalancer: { name: 'kubewright-steps-api', id: 'lb-1', ip: '203.0.113.40', action: 'unchanged' } }, hosts), hosts);
    assert.deepEqual(again.decisions.filter((d) => d.action !== 'keep').map((d) => d.name), []);
  } finally {
    await own.cleanup();
  }
});

test('DigitalOcean, one master without an endpoint: the master droplet\'s public address becomes it once provision has the droplet', async () => {
  const spec = parseCluster(base('{ digitalocean: { domain: example.com } }', 'workers: { count: 1 }\ncontrolPlane: { count: 1 }\n'), '/tmp/steps/cluster.yaml');
  const hosts = plannedHosts(spec).map((h, i) => ({ ...h, address: `198.51.100.${i + 1}`, publicAddress: `198.51.100.${i + 1}`, privateAddress: `10.10.0.${i + 1}` }));
  assert.throws(() => settleEndpoint(spec, {}, hosts.filter((h) => h.role === undefined)), /the API endpoint is the master's address, and digitalocean reported none/);
  const settled = settleEndpoint(spec, {}, hosts);
  assert.equal(settled.kubernetes.apiServer, 'https://198.51.100.2:6443');
  assert.deepEqual(settled.controlPlane?.endpoint, { url: 'https://198.51.100.2:6443', address: '198.51.100.2', port: 6443, source: 'first-master' });
});

test('the /readyz wait: answers 200 once the server is ready; a server that never is fails naming it and its last answer', async () => {
  const ca = await createCertificateAuthority({ commonName: 'test-ca', key: { algo: 'ecdsa', size: 256 } });
  const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: ['127.0.0.1'], key: { algo: 'ecdsa', size: 256 } });
  let calls = 0;
  const paths: string[] = [];
  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    calls++;
    paths.push(req.url ?? '');
    if (req.headers.authorization !== undefined) throw new Error('the probe sends no credential');
    res.writeHead(calls < 3 ? 500 : 200).end(calls < 3 ? '[-]etcd failed: reason withheld\nreadyz check failed' : 'ok');
  });
  const sick = createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => res.writeHead(500).end('[-]etcd failed: reason withheld'));
  await Promise.all([new Promise<void>((r) => server.listen(0, '127.0.0.1', r)), new Promise<void>((r) => sick.listen(0, '127.0.0.1', r))]);
  const url = (s: typeof server): string => `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  try {
    const ready: string[] = [];
    await waitForApiServersReady([{ name: 'm0', url: url(server) }], { caPem: ca.certPem, path: '/readyz', intervalMs: 20, deadlineMs: 5000, onReady: (t) => ready.push(t.name) });
    assert.equal(calls, 3);
    assert.deepEqual(ready, ['m0']);
    assert.deepEqual([...new Set(paths)], ['/readyz']);
    const err = await waitForApiServersReady([{ name: 'm0', url: url(server) }, { name: 'm1', url: url(sick) }], { caPem: ca.certPem, path: '/readyz', intervalMs: 20, deadlineMs: 200 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApiServerNotReadyError, String(err));
    assert.match(err.message, /^m1: https:\/\/127\.0\.0\.1:\d+ did not answer ready within 0 s; its last answer: HTTP 500: \[-\]etcd failed/);
    assert.match(err.hint ?? '', /journalctl -u kube-apiserver` on m1/);
    // a certificate from another CA is not trusted: the answer is the TLS error
    const other = await createCertificateAuthority({ commonName: 'other-ca', key: { algo: 'ecdsa', size: 256 } });
    const untrusted = await waitForApiServersReady([{ name: 'm0', url: url(server) }], { caPem: other.certPem, path: '/readyz', intervalMs: 20, deadlineMs: 100 }).then(() => undefined, (e: unknown) => e);
    assert.match(String((untrusted as Error).message), /its last answer: .*(certificate|signature)/i);
  } finally {
    server.close();
    sick.close();
  }
});

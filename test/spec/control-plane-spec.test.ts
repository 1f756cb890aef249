import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpecError } from '../../src/errors.ts';
import { awaitsEndpointAddress, parseCluster, withEndpointAddress } from '../../src/spec/cluster.ts';
import { withLoadBalancerEndpoint } from '../../src/spec/control-plane-droplets.ts';
import { etcdMemberHosts } from '../../src/spec/host.ts';
import { starterSpec } from '../../src/spec/starter.ts';
import { plannedHosts } from '../../src/providers/provider.ts';

const withoutApiServer = starterSpec.replace(/^ {2}apiServer: .*\n/m, '');

function issuesOf(text: string): { path: string; message: string; hint?: string | undefined }[] {
  try {
    parseCluster(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('spec was accepted');
}

const staticMasters = (n: number, extra = ''): string => `controlPlane:
  hosts:
${Array.from({ length: n }, (_, i) => `    - { name: master-${i}, address: 192.0.2.2${i}, privateAddress: 10.0.0.2${i} }`).join('\n')}
${extra}`;

test('without a controlPlane section the cluster has none and kubernetes.apiServer stays required', () => {
  assert.equal('controlPlane' in parseCluster(starterSpec), false);
  const issues = issuesOf(withoutApiServer);
  assert.deepEqual(issues.map((i) => [i.path, i.message]), [['kubernetes.apiServer', 'is required']]);
  assert.match(issues[0]?.hint ?? '', /controlPlane/);
});

test('one static master: stacked etcd, and the API endpoint is its private address on 6443', () => {
  const c = parseCluster(`${withoutApiServer}${staticMasters(1)}`);
  assert.equal(c.controlPlane?.count, 1);
  assert.deepEqual(c.controlPlane?.etcd, { placement: 'stacked' });
  assert.equal(c.kubernetes.apiServer, 'https://10.0.0.20:6443');
  assert.equal(c.controlPlane?.endpoint.source, 'first-master');
  const hosts = plannedHosts(c);
  assert.deepEqual(hosts.map((h) => [h.name, h.role]), [['worker-0', undefined], ['worker-1', undefined], ['worker-2', undefined], ['master-0', 'control-plane']]);
  assert.deepEqual(etcdMemberHosts(c, hosts).map((h) => h.name), ['master-0']);
});

test('three static masters need a user-given endpoint; with one, apiServer is derived from it', () => {
  const issues = issuesOf(`${withoutApiServer}${staticMasters(3)}`);
  assert.deepEqual(issues.map((i) => i.path), ['controlPlane.endpoint']);
  const c = parseCluster(`${withoutApiServer}${staticMasters(3, '  endpoint: { dnsName: api.demo.example.com, port: 443 }\n')}`);
  assert.equal(c.kubernetes.apiServer, 'https://api.demo.example.com:443');
  assert.equal(c.controlPlane?.count, 3);
});

test('a set kubernetes.apiServer wins over the derived endpoint', () => {
  const c = parseCluster(`${starterSpec}${staticMasters(1)}`);
  assert.equal(c.kubernetes.apiServer, 'https://api.demo.example.com:6443');
  assert.equal(c.controlPlane?.endpoint.source, 'spec');
});

test('counts other than 1, 3 or 5 are refused with the reason', () => {
  const lab = withoutApiServer.replace(/provider:\n {2}static:\n(?: {4}.*\n)+/, 'provider:\n  lab: { hosts: 1 }\n');
  const issues = issuesOf(`${lab}controlPlane: { count: 2 }\n`);
  assert.deepEqual(issues.map((i) => i.path), ['controlPlane.count']);
  assert.match(issues[0]?.message ?? '', /1, 3 or 5.*majority/);
  assert.deepEqual(issuesOf(`${withoutApiServer}${staticMasters(2)}`).map((i) => i.path), ['controlPlane.hosts']);
});

test('lab: masters and etcd hosts follow the workers on the bridge; the endpoint is the first master', () => {
  const lab = withoutApiServer.replace(/provider:\n {2}static:\n(?: {4}.*\n)+/, 'provider:\n  lab: { hosts: 2 }\n');
  const c = parseCluster(`${lab}controlPlane: { count: 3, etcd: { count: 3 } }\n`);
  assert.equal(c.kubernetes.apiServer, 'https://10.213.0.13:6443');
  assert.deepEqual(c.controlPlane?.etcd, { placement: 'external', count: 3, hosts: [] });
  const hosts = plannedHosts(c);
  assert.deepEqual(hosts.map((h) => `${h.name}:${h.role ?? 'worker'}`), [
    'demo-w0:worker', 'demo-w1:worker', 'demo-m0:control-plane', 'demo-m1:control-plane', 'demo-m2:control-plane', 'demo-e0:etcd', 'demo-e1:etcd', 'demo-e2:etcd',
  ]);
  assert.deepEqual(etcdMemberHosts(c, hosts).map((h) => h.name), ['demo-e0', 'demo-e1', 'demo-e2']);
});

test('digitalocean: droplet names per role; without an endpoint it waits for the load balancer\'s IP (three masters) or the master\'s address (one)', () => {
  const doSpec = withoutApiServer.replace(/provider:\n {2}static:\n(?: {4}.*\n)+/, 'provider:\n  digitalocean: { domain: example.com }\nworkers: { count: 2 }\n');
  const balanced = parseCluster(`${doSpec}controlPlane: { count: 3 }\n`);
  assert.equal(balanced.controlPlane?.endpoint.source, 'load-balancer');
  assert.equal(awaitsEndpointAddress(balanced), true);
  // until up knows the balancer's IP, apiServer names a host under .invalid (RFC 2606): reachable by nothing
  assert.equal(balanced.kubernetes.apiServer, 'https://kubewright-demo-api.load-balancer.invalid:6443');
  const withIp = withLoadBalancerEndpoint(balanced, '203.0.113.40');
  assert.equal(withIp.kubernetes.apiServer, 'https://203.0.113.40:6443');
  assert.equal(awaitsEndpointAddress(withIp), false);
  const single = parseCluster(`${doSpec}controlPlane: { count: 1 }\n`);
  assert.deepEqual([single.controlPlane?.endpoint.source, single.kubernetes.apiServer], ['first-master', 'https://kubewright-demo-master.droplet.invalid:6443']);
  assert.equal(withEndpointAddress(single, '203.0.113.7').kubernetes.apiServer, 'https://203.0.113.7:6443');
  assert.equal(awaitsEndpointAddress(parseCluster(`${doSpec}controlPlane: { count: 1, endpoint: { dnsName: api.example.com } }\n`)), false);
  const c = parseCluster(`${doSpec}controlPlane: { count: 1, endpoint: { dnsName: api.example.com } }\n`);
  assert.deepEqual(plannedHosts(c).map((h) => `${h.name}:${h.role ?? 'worker'}`), ['k8s-worker-0.example.com:worker', 'k8s-worker-1.example.com:worker', 'k8s-master-0.example.com:control-plane']);
});

test('static: hosts are listed, not counted, and names are unique across roles', () => {
  const issues = issuesOf(`${withoutApiServer}controlPlane: { count: 1 }\n`);
  assert.deepEqual(issues.map((i) => i.path), ['controlPlane.hosts']);
  const dup = issuesOf(`${withoutApiServer}controlPlane:\n  hosts: [{ name: worker-0, address: 192.0.2.20 }]\n`);
  assert.deepEqual(dup.map((i) => i.path), ['controlPlane.hosts']);
  assert.match(dup[0]?.message ?? '', /unique/);
  const lab = withoutApiServer.replace(/provider:\n {2}static:\n(?: {4}.*\n)+/, 'provider:\n  lab: { hosts: 1 }\n');
  assert.deepEqual(issuesOf(`${lab}controlPlane: { count: 1, hosts: [{ name: m, address: 192.0.2.20 }] }\n`).map((i) => i.path), ['controlPlane.hosts']);
});

test('unknown fields inside controlPlane are refused by name', () => {
  assert.deepEqual(issuesOf(`${withoutApiServer}${staticMasters(1, '  etcd: { stacked: true }\n')}`).map((i) => i.path), ['controlPlane.etcd.stacked']);
});

test('workers find the etcd kubewright builds unless etcd.discovery says otherwise', () => {
  const c = parseCluster(`${withoutApiServer.replace(/etcd:\n {2}discovery:\n.*\n/, 'etcd:\n')}${staticMasters(3, '  endpoint: { address: 10.0.0.100 }\n')}`);
  assert.deepEqual(c.etcd.discovery, { endpoints: ['https://10.0.0.20:2379', 'https://10.0.0.21:2379', 'https://10.0.0.22:2379'] });
  const lab = withoutApiServer.replace(/provider:\n {2}static:\n(?: {4}.*\n)+/, 'provider:\n  lab: { hosts: 2 }\n').replace(/etcd:\n {2}discovery:\n.*\n/, 'etcd:\n');
  assert.deepEqual(parseCluster(`${lab}controlPlane: { count: 1, etcd: { count: 3 } }\n`).etcd.discovery.endpoints, ['https://10.213.0.14:2379', 'https://10.213.0.15:2379', 'https://10.213.0.16:2379']);
  const doSpec = lab.replace('lab: { hosts: 2 }', 'digitalocean: { domain: example.com }\nworkers: { count: 2 }');
  assert.deepEqual(parseCluster(`${doSpec}controlPlane: { count: 1, endpoint: { dnsName: api.example.com } }\n`).etcd.discovery, { digitaloceanTag: 'k8s-etcd' });
  // a given discovery wins
  assert.deepEqual(parseCluster(`${withoutApiServer}${staticMasters(1)}`).etcd.discovery, { endpoints: ['https://10.0.0.2:2379'] });
});

test('the starter\'s commented controlPlane block parses once uncommented: three static masters, stacked etcd, the endpoint\'s name; workers then use the etcd it builds', () => {
  const block = /^# controlPlane:\n(?:# .*\n)+/m.exec(starterSpec)?.[0];
  assert.ok(block, 'init\'s starter carries a commented controlPlane block');
  // uncomment it as a user would, and leave out the external control plane's settings it replaces
  const text = starterSpec
    .replace(block, block.replace(/^# /gm, ''))
    .replace(/^ {2}apiServer: .*\n/m, '')
    .replace(/^ {2}discovery:\n {4}endpoints: .*\n/m, '');
  const c = parseCluster(text, 'cluster.yaml');
  assert.equal(c.controlPlane?.count, 3);
  assert.deepEqual(c.controlPlane?.etcd, { placement: 'stacked' });
  assert.equal(c.kubernetes.apiServer, 'https://api.demo.example.com:6443');
  assert.deepEqual(plannedHosts(c).filter((h) => h.role).map((h) => `${h.name}:${h.role}`), ['master-0:control-plane', 'master-1:control-plane', 'master-2:control-plane']);
  assert.deepEqual(c.etcd.discovery.endpoints, ['https://10.0.0.20:2379', 'https://10.0.0.21:2379', 'https://10.0.0.22:2379']);
  // its nested etcd line, uncommented too, moves etcd to hosts of its own (static: listed under etcd.hosts)
  const external = issuesOf(text.replace('  # etcd: { count: 3 }', '  etcd: { count: 3 }'));
  assert.deepEqual(external.map((i) => i.path), ['controlPlane.etcd.hosts']);
});

// The control plane's Cloud Firewalls, API load balancer, plan and down against the DigitalOcean
// simulator (TEST DOUBLE, behind Prism with the OpenAPI contract, so every firewall, tag and
// balancer request and answer is validated). Which traffic gets through is judged by the
// simulator's model of Cloud Firewall and balancer-firewall enforcement (TEST DOUBLE:
// `allowsInbound`, `balancerAdmits`): the attacks are "reach etcd 2379/2380 on a master from the
// internet" and "reach the API past a narrowed apiFrom". Also: the endpoint later commands read
// back from the state file.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import type { ProviderReport } from '../../src/providers/provider.ts';
import { withRecordedEndpoint } from '../../src/providers/digitalocean/recorded-endpoint.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import { startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.sim.reset({ maxPageSize: 200, limitPerMinute: 250 });
});

const internet = '203.0.113.9';
const provider = (controlPlane: string, firewall = ''): string =>
  `  digitalocean: { region: fra1, tags: [k8s-worker], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com${firewall} }\ncontrolPlane: ${controlPlane}`;

async function cpProvider(name: string, controlPlane: string, firewall = ''): Promise<DigitalOceanProvider> {
  const cluster = await h.cluster(2, { name, provider: provider(controlPlane, firewall), ssh: `ssh: { knownHostsPath: ./known_hosts_${name} }` });
  return new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock });
}

const idOf = (name: string): number => h.sim.dropletsByName(name)[0]!.id;
const master = (i: number): number => idOf(`k8s-master-${i}.example.com`);
const worker = (i: number): number => idOf(`k8s-worker-${i}.example.com`);

test('stacked masters: the API is open, etcd only to the cluster, the balancer admitted by id; created before any droplet, each tag once; a re-run sends nothing', async () => {
  const p = await cpProvider('stacked', '{ count: 3 }');
  const { report } = await p.ensure();
  assert.deepEqual(report.controlPlaneFirewalls?.map((f) => [f.name, f.action]), [['kubewright-stacked-control-plane', 'created']]);
  const writes = h.sim.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}${q.path === '/v2/tags' ? ` ${(q.body as { name: string }).name}` : ''}`);
  // the workers' firewall (naming k8s-master: the API servers reach the kubelets) makes the tags; the balancer needs k8s-master; the masters' firewall names the balancer's id
  assert.deepEqual(writes.slice(0, 5), ['POST /v2/tags k8s-worker', 'POST /v2/tags k8s-master', 'POST /v2/firewalls', 'POST /v2/load_balancers', 'POST /v2/firewalls']);
  assert.deepEqual(writes.slice(5).sort(), ['POST /v2/droplets', 'POST /v2/droplets']);
  assert.equal(new Set(writes.filter((w) => w.startsWith('POST /v2/tags'))).size, writes.filter((w) => w.startsWith('POST /v2/tags')).length, 'each tag created once');

  const lb = h.sim.loadBalancerList()[0]!;
  assert.equal(lb.firewall, undefined, 'default apiFrom: the balancer admits everyone');
  for (const i of [0, 1, 2]) {
    const m = master(i);
    assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { address: internet }), true, 'the API (authenticated) from anywhere by default');
    assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { loadBalancer: lb.id }), true);
    for (const port of [2379, 2380, 10250]) assert.equal(h.sim.allowsInbound(m, 'tcp', port, { address: internet }), false, `${port} from the internet`);
    assert.equal(h.sim.allowsInbound(m, 'tcp', 2379, { tags: ['k8s-worker'] }), true, 'flannel on the workers reads etcd');
    assert.equal(h.sim.allowsInbound(m, 'tcp', 2379, { tags: ['k8s-master'] }), true);
    assert.equal(h.sim.allowsInbound(m, 'tcp', 2380, { tags: ['k8s-worker'] }), false, 'peers only');
    assert.equal(h.sim.allowsInbound(m, 'tcp', 2380, { tags: ['k8s-master'] }), true);
    assert.equal(h.sim.allowsInbound(m, 'tcp', 22, { address: internet }), true, 'SSH as the workers\' rule (sshFrom, default anywhere)');
  }
  assert.equal(h.sim.allowsInbound(worker(0), 'tcp', 10250, { tags: ['k8s-master'] }), true, 'the API servers reach the kubelets');
  assert.equal(h.sim.allowsInbound(worker(0), 'tcp', 10250, { address: internet }), false);

  h.sim.resetCounts();
  const again = (await p.ensure()).report;
  assert.deepEqual(again.controlPlaneFirewalls?.map((f) => f.action), ['unchanged']);
  assert.deepEqual(h.sim.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`), []);
});

test('a narrowed apiFrom: the masters admit the balancer, the cluster and apiFrom only; the balancer\'s own firewall admits apiFrom only', async () => {
  const p = await cpProvider('narrow', '{ count: 3 }', ', firewall: { sshFrom: [198.51.100.7/32], apiFrom: [198.51.100.0/24], internalFrom: [10.110.0.0/20] }');
  await p.ensure();
  const lb = h.sim.loadBalancerList()[0]!;
  assert.deepEqual(lb.firewall, { allow: ['cidr:198.51.100.0/24'], deny: [] });
  assert.equal(h.sim.balancerAdmits(lb.id, internet), false);
  assert.equal(h.sim.balancerAdmits(lb.id, '198.51.100.80'), true);
  const m = master(1);
  assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { address: internet }), false, 'not around the balancer either');
  assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { address: '198.51.100.80' }), true);
  assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { loadBalancer: lb.id }), true);
  assert.equal(h.sim.allowsInbound(m, 'tcp', 6443, { tags: ['k8s-worker'] }), true, 'kubelets and kube-proxy');
  assert.equal(h.sim.allowsInbound(m, 'tcp', 2379, { address: '10.110.3.4' }), true, 'kubewright from internalFrom reaches etcd');
  assert.equal(h.sim.allowsInbound(m, 'tcp', 22, { address: internet }), false);
});

test('external etcd: its own firewall on the etcd tag; the masters\' has no etcd port; one master has no balancer', async () => {
  const p = await cpProvider('external', '{ count: 1, etcd: { count: 3 } }');
  const { report } = await p.ensure();
  assert.deepEqual(report.controlPlaneFirewalls?.map((f) => f.name), ['kubewright-external-control-plane', 'kubewright-external-etcd']);
  assert.deepEqual(h.sim.firewallList().map((f) => [f.name, f.tags]).sort(), [['kubewright-external', ['k8s-worker']], ['kubewright-external-control-plane', ['k8s-master']], ['kubewright-external-etcd', ['k8s-etcd']]]);
  assert.deepEqual(h.sim.loadBalancerList(), []);
  const e = idOf('k8s-etcd-0.example.com');
  assert.equal(h.sim.allowsInbound(e, 'tcp', 2379, { tags: ['k8s-worker'] }), true);
  assert.equal(h.sim.allowsInbound(e, 'tcp', 2379, { tags: ['k8s-master'] }), true);
  assert.equal(h.sim.allowsInbound(e, 'tcp', 2379, { address: internet }), false);
  assert.equal(h.sim.allowsInbound(e, 'tcp', 2380, { tags: ['k8s-master'] }), false);
  assert.equal(h.sim.allowsInbound(e, 'tcp', 2380, { tags: ['k8s-etcd'] }), true);
  assert.equal(h.sim.allowsInbound(master(0), 'tcp', 2379, { tags: ['k8s-worker'] }), false, 'no etcd on the masters');
  assert.equal(h.sim.allowsInbound(master(0), 'tcp', 6443, { address: internet }), true, 'one master: it is the endpoint');
});

test('plan counts every role\'s droplets, the firewalls and the balancer to create, then finds them all in place; it writes nothing', async () => {
  const p = await cpProvider('plan', '{ count: 3 }');
  const before = await p.plan();
  assert.deepEqual(before.machines?.toCreate, ['k8s-worker-0.example.com', 'k8s-worker-1.example.com', 'k8s-master-0.example.com', 'k8s-master-1.example.com', 'k8s-master-2.example.com']);
  assert.equal(before.machines?.createCalls, 2, 'one batched create per role');
  assert.deepEqual(before.loadBalancer, { name: 'kubewright-plan-api', action: 'create' });
  assert.deepEqual(before.controlPlaneFirewalls?.map((f) => [f.name, f.action]), [['kubewright-plan-control-plane', 'create']]);
  assert.ok(before.controlPlaneFirewalls?.[0]?.changes.includes('+ in tcp 6443 from 0.0.0.0/0, ::/0, tag:k8s-master, tag:k8s-worker, lb:<kubewright-plan-api>'), before.controlPlaneFirewalls?.[0]?.changes.join('\n'));
  assert.deepEqual(h.sim.requests.filter((q) => q.method !== 'GET'), []);
  await p.ensure();
  const after = await p.plan();
  assert.deepEqual([after.machines?.toCreate, after.machines?.existing.length], [[], 5]);
  assert.equal(after.loadBalancer?.action, 'unchanged');
  assert.equal(after.loadBalancer?.id, h.sim.loadBalancerList()[0]?.id);
  assert.deepEqual(after.controlPlaneFirewalls?.map((f) => f.action), ['unchanged']);
  assert.equal(after.firewall?.action, 'unchanged');
});

test('down lists and deletes the masters, etcd\'s droplets, the balancer and every firewall, by id; another cluster\'s droplets stay', async () => {
  const p = await cpProvider('gone', '{ count: 3, etcd: { count: 3 } }');
  const { report } = await p.ensure() as { report: ProviderReport };
  assert.ok(report.loadBalancer);
  const other = h.sim.seed({ name: 'db-0.example.com', tags: ['database'] });
  let shown: string[] = [];
  const result = await p.destroy(async (t) => {
    shown = t.items.map((i) => i.name);
    return true;
  });
  assert.equal(shown.length, 2 + 3 + 3 + 1 + 3);
  assert.ok(shown.includes('load balancer kubewright-gone-api') && shown.includes('firewall kubewright-gone-etcd'), shown.join(', '));
  assert.match(result.message, /^deleted 8 droplets tagged k8s-worker or k8s-master or k8s-etcd, load balancer kubewright-gone-api and firewalls kubewright-gone, kubewright-gone-control-plane, kubewright-gone-etcd$/);
  const deletes = h.sim.requests.filter((q) => q.method === 'DELETE').map((q) => q.path.replace(/[0-9a-f-]{36}$|\d+$/, '{id}'));
  assert.deepEqual(deletes, [...Array<string>(8).fill('/v2/droplets/{id}'), '/v2/load_balancers/{id}', '/v2/firewalls/{id}', '/v2/firewalls/{id}', '/v2/firewalls/{id}']);
  assert.deepEqual(h.sim.dropletNames(), ['db-0.example.com']);
  assert.deepEqual([h.sim.loadBalancerList(), h.sim.firewallList()], [[], []]);
  h.sim.remove(other);
});

test('down refuses when the masters\' tag also covers droplets that are not this cluster\'s hosts', async () => {
  const p = await cpProvider('shared', '{ count: 3 }');
  await p.ensure();
  h.sim.seed({ name: 'someone-elses-master', tags: ['k8s-master'] });
  await assert.rejects(p.destroy(async () => true), /1 droplets tagged k8s-worker or k8s-master are not hosts of cluster shared \(someone-elses-master\)/);
  assert.equal(h.sim.dropletNames().length, 6);
});

test('later commands settle an endpoint left to DigitalOcean from the state file, with no API call: the balancer\'s IP for three masters, the master\'s address for one', async () => {
  const leftOpen = (c: Cluster, source: 'load-balancer' | 'first-master'): Cluster => ({ ...c, kubernetes: { ...c.kubernetes, apiServer: 'https://pending.invalid:6443' }, controlPlane: { ...c.controlPlane!, endpoint: { url: 'https://pending.invalid:6443', port: 6443, source } } });
  const three = await cpProvider('recorded3', '{ count: 3 }');
  const cluster3 = leftOpen(await h.cluster(2, { name: 'recorded3', provider: provider('{ count: 3 }'), ssh: 'ssh: { knownHostsPath: ./known_hosts_recorded3 }' }), 'load-balancer');
  assert.equal((await withRecordedEndpoint(cluster3)).kubernetes.apiServer, 'https://pending.invalid:6443', 'nothing recorded before ensure');
  const { report } = await three.ensure();
  h.sim.resetCounts();
  const settled = await withRecordedEndpoint(cluster3);
  assert.equal(settled.kubernetes.apiServer, `https://${report.loadBalancer!.ip}:6443`);
  assert.equal(settled.controlPlane?.endpoint.address, report.loadBalancer!.ip);
  const one = await cpProvider('recorded1', '{ count: 1 }');
  const { hosts } = await one.ensure();
  const cluster1 = leftOpen(await h.cluster(2, { name: 'recorded1', provider: provider('{ count: 1 }'), ssh: 'ssh: { knownHostsPath: ./known_hosts_recorded1 }' }), 'first-master');
  h.sim.resetCounts();
  const master = hosts.find((x) => x.role === 'control-plane')!;
  assert.equal((await withRecordedEndpoint(cluster1)).kubernetes.apiServer, `https://${master.publicAddress!}:6443`);
  assert.equal(h.sim.counts().total, 0, 'read from the state file only');
});

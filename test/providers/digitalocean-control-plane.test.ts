// The control plane's droplets against the DigitalOcean simulator (test double) through Prism,
// which fails any request or response that breaks the OpenAPI contract.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import { startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const provider = (extra: string): string => `  digitalocean: { region: fra1, tags: [k8s-worker], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com }\n${extra}`;

test('stacked: three masters in one create, tagged k8s-master and the etcd tag etcd-lookup searches; a rerun makes no POST', async () => {
  h.sim.reset({ maxPageSize: 200, limitPerMinute: 250 });
  const cluster = await h.cluster(2, { name: 'stacked', provider: provider('controlPlane: { count: 3 }'), ssh: 'ssh: { knownHostsPath: ./known_hosts_stacked }' });
  const { hosts, report } = await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).ensure();
  const creates = h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/v2/droplets').map((r) => r.body as { names: string[]; tags: string[] });
  assert.deepEqual(creates.map((c) => [c.names.length, c.tags]).sort(), [[2, ['k8s-worker']], [3, ['k8s-master', 'k8s-etcd']]].sort());
  assert.deepEqual(hosts.map((x) => `${x.name}:${x.role ?? 'worker'}`), [
    'k8s-worker-0.example.com:worker', 'k8s-worker-1.example.com:worker',
    'k8s-master-0.example.com:control-plane', 'k8s-master-1.example.com:control-plane', 'k8s-master-2.example.com:control-plane',
  ]);
  assert.equal(report.created.length, 5);
  // three masters: ensure keeps the API load balancer to their tag, and reports its IP
  assert.deepEqual(h.sim.loadBalancerList().map((l) => [l.name, l.tag]), [['kubewright-stacked-api', 'k8s-master']]);
  assert.equal(report.loadBalancer?.action, 'created');
  assert.match(report.loadBalancer?.ip ?? '', /^192\.0\.2\.\d+$/);
  assert.ok(hosts.every((x) => x.privateAddress !== undefined));
  // recorded() knows them by role without an API call; a rerun creates nothing
  const recorded = await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).recorded();
  assert.deepEqual(recorded.map((x) => [x.name, x.role, x.address]), hosts.map((x) => [x.name, x.role, x.address]));
  h.sim.resetCounts();
  await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).ensure();
  assert.equal(h.sim.counts().posts, 0);
});

test('external etcd: its own droplets carry the etcd tag, the masters do not', async () => {
  h.sim.reset({ maxPageSize: 200, limitPerMinute: 250 });
  const cluster = await h.cluster(1, { name: 'external', provider: provider('controlPlane: { count: 1, etcd: { count: 3 } }'), ssh: 'ssh: { knownHostsPath: ./known_hosts_external }' });
  await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).ensure();
  assert.deepEqual(h.sim.dropletsByName('k8s-master-0.example.com')[0]?.tags, ['k8s-master']);
  for (const i of [0, 1, 2]) assert.deepEqual(h.sim.dropletsByName(`k8s-etcd-${i}.example.com`)[0]?.tags, ['k8s-etcd']);
  assert.equal(h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/v2/droplets').length, 3);
  assert.deepEqual(h.sim.loadBalancerList(), [], 'one master needs no balancer');
});

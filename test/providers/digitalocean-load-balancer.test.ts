// The API load balancer against the DigitalOcean simulator (test double) through Prism, which
// fails any request or response that breaks the vendored OpenAPI contract: found by name, one
// POST, TCP 6443 to the masters' tag with a TCP health check, its IP awaited, no duplicate on a
// re-run or after a lost answer; and kubernetes.apiServer derived from its address.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureApiLoadBalancer, type LoadBalancerOutcome } from '../../src/providers/digitalocean/load-balancer.ts';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import { apiLoadBalancerDesign, withLoadBalancerEndpoint } from '../../src/spec/control-plane-droplets.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import type { Fault } from '../support/do-simulator.ts';
import { startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const provider = `  digitalocean: { region: fra1, tags: [k8s-worker], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com }\ncontrolPlane: { count: 3 }`;

/** Workers and three masters through the provider's ensure(), which also keeps the API balancer. */
async function mastersUp(name: string, faults: Fault[] = []): Promise<{ cluster: Cluster; loadBalancer: LoadBalancerOutcome | undefined }> {
  h.sim.reset({ maxPageSize: 200, limitPerMinute: 250 });
  const cluster = await h.cluster(1, { name, provider, ssh: `ssh: { knownHostsPath: ./known_hosts_${name} }` });
  h.sim.inject(...faults);
  const { report } = await new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock }).ensure();
  return { cluster, loadBalancer: report.loadBalancer };
}

const lbPosts = (): number => h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/v2/load_balancers').length;

test('three masters get one balancer: one POST (TCP 6443 to tag k8s-master, TCP health check), its IP awaited; a re-run makes no POST', async () => {
  const { cluster, loadBalancer: made } = await mastersUp('lb');
  assert.equal(made?.action, 'created');
  assert.match(made?.ip ?? '', /^192\.0\.2\.\d+$/);
  assert.equal(lbPosts(), 1);
  const [lb, ...more] = h.sim.loadBalancerList();
  assert.equal(more.length, 0);
  assert.equal(lb?.name, 'kubewright-lb-api');
  assert.equal(lb?.tag, 'k8s-master');
  assert.deepEqual(lb?.forwardingRules, [{ entry_protocol: 'tcp', entry_port: 6443, target_protocol: 'tcp', target_port: 6443 }]);
  assert.deepEqual(lb?.healthCheck, { protocol: 'tcp', port: 6443, check_interval_seconds: 10, response_timeout_seconds: 5, healthy_threshold: 3, unhealthy_threshold: 3 });

  const design = apiLoadBalancerDesign(cluster);
  assert.ok(design, 'three masters on DigitalOcean need a balancer');
  h.sim.resetCounts();
  const again = await ensureApiLoadBalancer(h.client(), design, { clock: h.clock });
  assert.deepEqual([again.action, again.id, again.ip], ['unchanged', made?.id, made?.ip]);
  assert.equal(h.sim.counts().posts, 0);
  assert.equal(h.sim.loadBalancerList().length, 1);
});

test('a create whose answer is lost is not repeated: the list by name finds it', async () => {
  const { loadBalancer: made } = await mastersUp('lost', [{ kind: 'lose-create', method: 'POST', path: '/v2/load_balancers', count: 1 }]);
  assert.equal(h.sim.loadBalancerList().length, 1, 'exactly one balancer, no duplicate');
  assert.equal(lbPosts(), 1, 'the lost create was not sent again');
  assert.equal(made?.id, h.sim.loadBalancerList()[0]?.id);
  assert.ok(made?.ip);
});

test('kubernetes.apiServer is derived from the balancer\'s IP unless the spec names the endpoint; the IP joins the endpoint for the serving certificate', async () => {
  const { cluster } = await mastersUp('derive');
  // the harness's spec sets kubernetes.apiServer (a DNS name pointed at the balancer): it stays
  const named = withLoadBalancerEndpoint(cluster, '192.0.2.50');
  assert.equal(named.kubernetes.apiServer, 'https://api.example.com:6443');
  assert.deepEqual([named.controlPlane?.endpoint.dnsName, named.controlPlane?.endpoint.address, named.controlPlane?.endpoint.source], ['api.example.com', '192.0.2.50', 'spec']);
  assert.ok(apiLoadBalancerDesign(named), 'the balancer is still wanted once its address is known');
  // an endpoint the spec leaves to kubewright: derived from the balancer
  const cp = cluster.controlPlane;
  assert.ok(cp);
  const open: Cluster = { ...cluster, controlPlane: { ...cp, endpoint: { url: '', port: 6443, source: 'load-balancer' } } };
  const derived = withLoadBalancerEndpoint(open, '192.0.2.50');
  assert.equal(derived.kubernetes.apiServer, 'https://192.0.2.50:6443');
  assert.deepEqual(derived.controlPlane?.endpoint, { url: 'https://192.0.2.50:6443', address: '192.0.2.50', port: 6443, source: 'load-balancer' });
  // one master, or a balancer of the user's own (an address in the spec): none
  assert.equal(apiLoadBalancerDesign({ ...cluster, controlPlane: { ...cp, count: 1 } }), undefined);
  assert.equal(apiLoadBalancerDesign({ ...cluster, controlPlane: { ...cp, endpoint: { url: 'https://203.0.113.30:6443', address: '203.0.113.30', port: 6443, source: 'spec' } } }), undefined);
});

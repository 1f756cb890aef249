// The workers' Cloud Firewall against the DigitalOcean simulator (TEST DOUBLE, behind Prism with
// the OpenAPI contract, so every firewall and tag request and answer is validated). Which traffic
// gets through is judged by the simulator's model of Cloud Firewall enforcement (TEST DOUBLE:
// `allowsInbound`): the attack is "reach kubelet 10250 on a worker from the internet".
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import type { ProviderPlan, ProviderReport } from '../../src/providers/provider.ts';
import { designFirewall } from '../../src/spec/firewall-rules.ts';
import { renderTerraformJson } from '../../src/render/terraform.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { SpecError } from '../../src/errors.ts';
import { runCli } from '../helpers/run-cli.ts';
import { canaryToken, startHarness, type Harness } from './do-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.sim.reset();
  h.calls.length = 0;
});

const doBlock = (firewall = ''): string =>
  `  digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [k8s-worker], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com${firewall} }`;
const narrowed = ', firewall: { sshFrom: [198.51.100.7/32], internalFrom: [10.110.0.0/20], internalTags: [k8s-master] }';
const internet = '203.0.113.9';

async function provider(count: number, firewall = narrowed, name = 'demo'): Promise<DigitalOceanProvider> {
  const cluster = await h.cluster(count, { provider: doBlock(firewall), name });
  return new DigitalOceanProvider({ cluster, client: h.client(), clock: h.clock });
}

let last: ProviderReport | undefined;
async function ensure(p: DigitalOceanProvider): Promise<void> {
  last = (await p.ensure()).report;
}
async function planFw(p: DigitalOceanProvider): Promise<ProviderPlan['firewall']> {
  return (await p.plan()).firewall;
}

function workerIds(): number[] {
  return h.sim.dropletNames().flatMap((n) => h.sim.dropletsByName(n).map((d) => d.id));
}

test('without the firewall, kubelet 10250 of a new worker is reachable from the internet (the attack)', async () => {
  const p = await provider(1, ', firewall: { enabled: false }', 'open');
  await ensure(p);
  assert.equal(last?.firewall, undefined);
  const [id] = workerIds();
  assert.equal(h.sim.allowsInbound(id!, 'tcp', 10250, { address: internet }), true);
});

test('up creates the firewall before any droplet, and the internet cannot reach kubelet, flannel or NodePorts', async () => {
  const p = await provider(3);
  await ensure(p);
  assert.equal(last?.firewall?.action, 'created');
  const order = h.sim.requests.filter((q) => q.method === 'POST').map((q) => q.path);
  assert.ok(order.indexOf('/v2/firewalls') >= 0 && order.indexOf('/v2/firewalls') < order.indexOf('/v2/droplets'), `firewall first: ${order.join(', ')}`);
  assert.ok(order.indexOf('/v2/tags') < order.indexOf('/v2/firewalls'), 'the tags it names exist first');
  const [fw] = h.sim.firewallList();
  assert.equal(fw?.name, 'kubewright-demo');
  assert.deepEqual(fw?.tags, ['k8s-worker']);
  for (const id of workerIds()) {
    for (const [proto, port] of [['tcp', 10250], ['tcp', 10255], ['udp', 8472], ['tcp', 30080], ['udp', 31000], ['tcp', 22]] as const) {
      assert.equal(h.sim.allowsInbound(id, proto, port, { address: internet }), false, `${proto}/${port} from the internet`);
    }
    // the cluster itself: other workers (by tag), the control plane's tag, the VPC range
    assert.equal(h.sim.allowsInbound(id, 'tcp', 10250, { tags: ['k8s-worker'] }), true);
    assert.equal(h.sim.allowsInbound(id, 'tcp', 10250, { tags: ['k8s-master'] }), true);
    assert.equal(h.sim.allowsInbound(id, 'udp', 8472, { address: '10.110.3.4' }), true);
    assert.equal(h.sim.allowsInbound(id, 'tcp', 22, { address: '198.51.100.7' }), true, 'SSH from sshFrom');
    assert.equal(h.sim.allowsInbound(id, 'tcp', 22, { tags: ['k8s-worker'] }), false, 'SSH only from sshFrom');
  }
  assert.deepEqual(fw?.outbound.map((r) => `${r.protocol} ${r.ports} ${(r.destinations?.addresses ?? []).join(',')}`), ['tcp 0 0.0.0.0/0,::/0', 'udp 0 0.0.0.0/0,::/0', 'icmp 0 0.0.0.0/0,::/0']);
});

test('a second ensure changes nothing: no POST, no PUT', async () => {
  const p = await provider(2);
  await ensure(p);
  h.sim.resetCounts();
  await ensure(p);
  assert.equal(last?.firewall?.action, 'unchanged');
  assert.deepEqual(h.sim.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`), []);
  assert.equal(h.sim.firewallList().length, 1);
  const plan = await planFw(p);
  assert.equal(plan?.action, 'unchanged');
});

test('a firewall opened by hand is shown by plan and put back by the next ensure', async () => {
  const p = await provider(1);
  await ensure(p);
  const [fw] = h.sim.firewallList();
  h.sim.editFirewall(fw!.id, (f) => f.inbound.push({ protocol: 'tcp', ports: '10250', sources: { addresses: ['0.0.0.0/0'] } }));
  const [id] = workerIds();
  assert.equal(h.sim.allowsInbound(id!, 'tcp', 10250, { address: internet }), true, 'the edit opened the door');
  const plan = await planFw(p);
  assert.equal(plan?.action, 'update');
  assert.deepEqual(plan?.changes, ['- in tcp 10250 from 0.0.0.0/0']);
  h.sim.resetCounts();
  await ensure(p);
  assert.equal(last?.firewall?.action, 'updated');
  assert.equal(h.sim.requests.filter((q) => q.method === 'PUT').length, 1);
  assert.equal(h.sim.allowsInbound(id!, 'tcp', 10250, { address: internet }), false);
  assert.equal((await planFw(p))?.action, 'unchanged');
});

test('a spec change (sshFrom) updates the firewall in place', async () => {
  await ensure(await provider(1));
  const p = await provider(1, ', firewall: { sshFrom: [192.0.2.0/24], internalFrom: [10.110.0.0/20], internalTags: [k8s-master] }');
  const plan = await planFw(p);
  assert.deepEqual(plan?.changes, ['- in tcp 22 from 198.51.100.7/32', '+ in tcp 22 from 192.0.2.0/24']);
  await ensure(p);
  assert.equal(h.sim.firewallList().length, 1);
  const [id] = workerIds();
  assert.equal(h.sim.allowsInbound(id!, 'tcp', 22, { address: '192.0.2.44' }), true);
  assert.equal(h.sim.allowsInbound(id!, 'tcp', 22, { address: '198.51.100.7' }), false);
});

for (const [label, faults] of [
  ['429s on the firewall calls', [{ kind: '429', path: '/v2/firewalls', count: 3 }, { kind: '429', method: 'POST', path: '/v2/tags', count: 1 }]],
  ['500s on the firewall list', [{ kind: '500', method: 'GET', path: '/v2/firewalls', count: 2 }]],
  ['a lost firewall create response (applied, then the connection broke)', [{ kind: 'lose-create', method: 'POST', path: '/v2/firewalls', count: 1 }]],
] as const) {
  test(`under ${label} ensure ends with exactly one firewall`, async () => {
    h.sim.inject(...faults);
    const p = await provider(2);
    await ensure(p);
    assert.ok(h.sim.requests.some((q) => q.fault), 'the fault was injected');
    assert.equal(h.sim.firewallList().length, 1);
    assert.equal(h.sim.dropletNames().length, 2);
  });
}

test('the seed profile on DigitalOcean refuses to run without the firewall (exit 2, with the reason)', async () => {
  const text = [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: seedless }', 'profile: seed',
    'kubernetes: { apiServer: "https://api.example.com:6443" }', 'provider:', doBlock(', firewall: { enabled: false }'), 'workers: { count: 1 }', '',
  ].join('\n');
  assert.throws(() => parseCluster(text, 'seed.yaml'), (e: unknown) => e instanceof SpecError && /provider\.digitalocean\.firewall\.enabled/.test(e.describe()));
  const file = join(h.dir, 'seedless.yaml');
  await writeFile(file, text);
  const tokenFile = join(h.dir, 'token');
  await writeFile(tokenFile, `${canaryToken}\n`);
  h.sim.resetCounts();
  const r = await runCli('up', '-f', file, '--token-file', tokenFile, '--api-url', h.prism.url);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /provider\.digitalocean\.firewall\.enabled: the seed profile does not run on DigitalOcean without the firewall: its kubelet .* anonymous requests exec into pods on port 10250/);
  assert.equal(h.sim.counts().total, 0, 'nothing was asked of the API');
});

test('a bad firewall CIDR is refused with the field path', () => {
  const text = ['apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: x }', 'kubernetes: { apiServer: "https://api.example.com:6443" }', 'provider:', doBlock(', firewall: { sshFrom: [10.0.0.0/33] }'), 'workers: { count: 1 }', ''].join('\n');
  assert.throws(() => parseCluster(text, 'x.yaml'), (e: unknown) => e instanceof SpecError && /provider\.digitalocean\.firewall\.sshFrom\.0/.test(e.describe()));
});

test('the Terraform JSON has the same firewall as digitalocean_firewall', async () => {
  const cluster = await h.cluster(2, { provider: doBlock(narrowed), name: 'tf' });
  const doc = JSON.parse(renderTerraformJson(cluster)) as { resource: { digitalocean_firewall: { workers: { name: string; tags: string[]; inbound_rule: Record<string, unknown>[]; outbound_rule: Record<string, unknown>[] } } } };
  const fw = doc.resource.digitalocean_firewall.workers;
  const design = designFirewall(cluster)!;
  assert.equal(fw.name, 'kubewright-tf');
  assert.deepEqual(fw.tags, ['${digitalocean_tag.k8s_worker.id}']);
  assert.equal(fw.inbound_rule.length, design.inbound.length);
  assert.deepEqual(fw.inbound_rule[0], { protocol: 'tcp', port_range: '22', source_addresses: ['198.51.100.7/32'] });
  assert.deepEqual(fw.inbound_rule[1], { protocol: 'tcp', port_range: '10250', source_addresses: ['10.110.0.0/20'], source_tags: ['${digitalocean_tag.k8s_worker.id}', 'k8s-master'] });
  assert.deepEqual(fw.outbound_rule.map((r) => r['port_range'] ?? '-'), ['1-65535', '1-65535', '-']);
  for (const r of fw.inbound_rule) assert.doesNotMatch(JSON.stringify(r.source_addresses ?? []), /0\.0\.0\.0\/0/, 'only SSH may be wide, and here it is narrowed');
});

test('plan warns what static hosts leave exposed', async () => {
  const file = join(h.dir, 'static.yaml');
  await writeFile(file, [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: st }', 'profile: seed',
    'kubernetes: { apiServer: "https://api.example.com:6443" }', 'provider: { static: { hosts: [ { name: w1, address: 192.0.2.10 } ] } }',
    `ssh: { privateKeyPath: ${join(h.dir, 'nokey')} }`, '',
  ].join('\n'));
  await writeFile(join(h.dir, 'nokey'), 'not a key');
  const r = await runCli('plan', '-f', file, '--output', 'json');
  const out = JSON.parse(r.stdout || '{}') as { warnings?: string[] };
  assert.match(out.warnings?.[0] ?? r.stderr, /exposed: kubewright manages no firewall for provider\.static hosts; kubelet 10250 \(seed profile: anonymous requests allowed/);
});

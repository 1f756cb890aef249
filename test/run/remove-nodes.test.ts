// Removing a host that left the spec (what `up --prune` runs), on a real OpenSSH host (loopback,
// fake root; systemctl there is the TEST DOUBLE of test/support/sshd-hosts.ts) with the real
// static provider's state file, against the Kubernetes API TEST DOUBLE (Nodes, pods, budgets,
// evictions). Each step is checked against the world as it finishes: the order is the point.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MANIFEST_PATH } from '../../src/phases/host-manifest.ts';
import { plantAppliedKubelet } from '../support/applied-host.ts';
import { StaticProvider } from '../../src/providers/static/static-provider.ts';
import { readStaticHosts, writeStaticHosts } from '../../src/providers/static/static-state.ts';
import { planRetiredHostRemoval, runRemoval, type RemovalOptions, type RemovalStepKind } from '../../src/run/remove-nodes.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { putBudget, putNode, putPod, startAdminApi, type AdminApi } from '../support/admin-api.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let a: AdminApi;
let dir: string;
let cluster: Cluster;
let provider: StaticProvider;
const gone = 'rm1';

before(async () => {
  [lab, a] = await Promise.all([startSshdHosts(1, 'rm'), startAdminApi()]);
  dir = await mkdtemp(join(tmpdir(), 'kw-remove-'));
  const h = lab.hosts[0]!;
  const specFile = join(dir, 'cluster.yaml');
  const spec = `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: rmtest }
profile: modern
kubernetes: { version: "1.36.2", apiServer: "${a.api.url}", clusterDNS: 10.32.0.10 }
provider:
  static:
    hosts:
      - { name: keep1, address: 127.0.0.2 }
ssh: { user: root, port: ${h.port}, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }
pki: { dir: ./pki }
`;
  await writeFile(specFile, spec);
  cluster = parseCluster(spec, specFile);
  provider = new StaticProvider(cluster);
  // an earlier `up` brought up keep1 and rm1; rm1 has since been taken out of the spec
  await writeStaticHosts(cluster, [
    { name: 'keep1', address: '127.0.0.2', port: h.port, user: 'root' },
    { name: gone, address: h.address, port: h.port, user: 'root' },
  ]);
  // what apply left on rm1: its manifest, a unit file, a running kubelet (systemctl test double state)
  await plantAppliedKubelet(h.root);
  await writeFile(join(h.systemdDir, 'kubelet.service.inv'), 'abc\n');
  await writeFile(join(h.systemdDir, 'kubelet.service.enabled'), 'enabled\n');
  putNode(a.api, 'keep1');
  putNode(a.api, gone);
  putPod(a.api, { name: 'web-a', node: gone, labels: { app: 'web' }, owner: 'ReplicaSet/web-1' });
  putPod(a.api, { name: 'web-b', node: 'keep1', labels: { app: 'web' }, owner: 'ReplicaSet/web-1' });
  putPod(a.api, { name: 'proxy-x', namespace: 'kube-system', node: gone, owner: 'DaemonSet/proxy' });
  putBudget(a.api, { name: 'web', app: 'web', minAvailable: 2 });
});

after(async () => {
  await Promise.all([lab?.stop(), a?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const access = (): Parameters<typeof planRetiredHostRemoval>[2] => ({ kubeConfig: async () => a.kubeConfig });
const opts: RemovalOptions = { drainTimeoutMs: 800, retryIntervalMs: 100 };
const manifestThere = async (): Promise<boolean> => stat(join(lab.hosts[0]!.root, MANIFEST_PATH)).then(() => true, () => false);
const unschedulable = (): boolean | undefined => (a.api.node(gone)?.['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable;

test('the plan shows every step for the host that left the spec, in order, and changes nothing', async () => {
  const plan = await planRetiredHostRemoval(cluster, provider, access(), opts);
  await plan.close();
  assert.deepEqual(plan.hosts, [gone]);
  assert.deepEqual(plan.steps.map((s) => s.kind), ['cordon', 'drain', 'reset', 'delete-node', 'release'] satisfies RemovalStepKind[]);
  assert.equal(plan.steps[1]!.summary, `drain Node ${gone}: evict default/web-a; skip kube-system/proxy-x (DaemonSet or mirror pods)`);
  assert.match(plan.steps[2]!.summary, /^reset rm1: \d+ step\(s\): stop and disable kubelet\.service \(active, enabled\); remove \/etc\/systemd\/system\/kubelet\.service \(file\)/);
  assert.equal(plan.steps[4]!.summary, `forget host ${gone}`);
  assert.deepEqual(a.api.calls.filter((c) => c.method !== 'GET'), [], 'the API was only read');
  assert.ok(await manifestThere());
  assert.equal(unschedulable(), undefined);
});

test('a budget that forbids the eviction stops the removal at the drain; a re-run continues from there, one step at a time', async () => {
  const first = await planRetiredHostRemoval(cluster, provider, access(), opts);
  try {
    await assert.rejects(runRemoval(first), (e: Error & { hint?: string }) => {
      assert.match(e.message, /^removing rm1: drain failed: rm1: drain rm1: 1 pod\(s\) still on the node after 800ms: default\/web-a \(The disruption budget web needs 2 healthy pods and has 2 currently\)/);
      assert.match(e.hint ?? '', /re-run `kubewright up --prune`: it continues from what is left \(1 step\(s\) done\)/);
      return true;
    });
  } finally {
    await first.close();
  }
  // stopped right there: cordoned, still drained of nothing, not reset, Node there, host still known
  assert.equal(unschedulable(), true);
  assert.ok(a.api.node(gone));
  assert.ok(await manifestThere());
  assert.ok(!(await lab.systemctlCalls(lab.hosts[0]!)).some((l) => l.startsWith('disable')));
  assert.ok((await readStaticHosts(cluster)).some((h) => h.name === gone));

  // the workload scales up elsewhere, so the budget allows one disruption
  putPod(a.api, { name: 'web-c', node: 'keep1', labels: { app: 'web' }, owner: 'ReplicaSet/web-1' });
  const again = await planRetiredHostRemoval(cluster, provider, access(), opts);
  assert.deepEqual(again.steps.map((s) => s.kind), ['drain', 'reset', 'delete-node', 'release'], 'the cordon is not repeated');
  const seen: string[] = [];
  try {
    await runRemoval(again, (s) => {
      const pods = a.api.pods(gone);
      const node = a.api.node(gone) !== undefined;
      seen.push(s.kind);
      if (s.kind === 'drain') assert.deepEqual(pods, ['kube-system/proxy-x'], 'drained before anything else');
      if (s.kind === 'reset') assert.ok(node, 'the Node is still there while the host is reset');
      if (s.kind === 'delete-node') assert.ok(!node);
    });
  } finally {
    await again.close();
  }
  assert.deepEqual(seen, ['drain', 'reset', 'delete-node', 'release']);
  assert.ok((await lab.systemctlCalls(lab.hosts[0]!)).includes('disable --now -- kubelet.service'));
  assert.ok(!(await manifestThere()));
  await assert.rejects(readFile(join(lab.hosts[0]!.root, 'etc/systemd/system/kubelet.service')), /ENOENT/);
  assert.deepEqual((await readStaticHosts(cluster)).map((h) => h.name), ['keep1'], 'forgotten');
  assert.deepEqual(a.api.pods('keep1').sort(), ['default/web-b', 'default/web-c']);

  const done = await planRetiredHostRemoval(cluster, provider, access(), opts);
  await done.close();
  assert.deepEqual([done.hosts, done.steps.length], [[], 0], 'nothing is left to do');
});

// `up --prune` for the Terraform provider: a host that left the saved `terraform output -json` is
// drained, reset and forgotten, and its droplet is left to Terraform. The host is a real OpenSSH
// host on loopback (fake root; systemctl there is the TEST DOUBLE of test/support/sshd-hosts.ts),
// the Kubernetes API is the API TEST DOUBLE; the provider and its record (terraform.json) are real.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MANIFEST_PATH } from '../../src/phases/host-manifest.ts';
import { plantAppliedKubelet } from '../support/applied-host.ts';
import { readStaticHosts, staticStateFile } from '../../src/providers/static/static-state.ts';
import { TerraformOutputProvider } from '../../src/providers/terraform/provider.ts';
import { planRetiredHostRemoval, runRemoval } from '../../src/run/remove-nodes.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { putNode, startAdminApi, type AdminApi } from '../support/admin-api.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let a: AdminApi;
let dir: string;
let cluster: Cluster;
const gone = 'tf-w1';

/** `terraform output -json` of kubewright's main.tf.json with these hosts (no host keys: the sshd host's is pinned already) */
const output = (hosts: { name: string; address: string }[]): string =>
  JSON.stringify({
    worker_names: { sensitive: false, value: hosts.map((h) => h.name) },
    worker_ipv4_addresses: { sensitive: false, value: hosts.map((h) => h.address) },
  });

before(async () => {
  [lab, a] = await Promise.all([startSshdHosts(1, 'tfr'), startAdminApi()]);
  dir = await mkdtemp(join(tmpdir(), 'kw-tf-retired-'));
  const h = lab.hosts[0]!;
  const specFile = join(dir, 'cluster.yaml');
  const spec = `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: tfr }
kubernetes: { version: "1.36.2", apiServer: "${a.api.url}" }
provider: { terraform: { outputFile: output.json } }
ssh: { user: root, port: ${h.port}, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }
pki: { dir: ./pki }
`;
  await writeFile(specFile, spec);
  cluster = parseCluster(spec, specFile);
  // what apply left on tf-w1: its manifest and a unit file
  await plantAppliedKubelet(h.root);
  putNode(a.api, 'tf-w0');
  putNode(a.api, gone);
});

after(async () => {
  await Promise.all([lab?.stop(), a?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('a host that left the Terraform output is an extra, then drained, reset and forgotten; its droplet is left to Terraform', async () => {
  // the first `up`: both hosts in the output, recorded
  await writeFile(join(dir, 'output.json'), output([{ name: 'tf-w0', address: '127.0.0.2' }, { name: gone, address: '127.0.0.1' }]));
  const provider = new TerraformOutputProvider(cluster);
  assert.deepEqual((await provider.ensure()).report.extras, []);
  assert.deepEqual((await readStaticHosts(cluster, 'terraform')).map((h) => h.name), ['tf-w0', gone]);

  // Terraform's count lowered and its output saved again: tf-w1 is kept, reported, until --prune
  await writeFile(join(dir, 'output.json'), output([{ name: 'tf-w0', address: '127.0.0.2' }]));
  const ensured = await provider.ensure();
  assert.deepEqual([ensured.hosts.map((h) => h.name), ensured.report.extras], [['tf-w0'], [gone]]);
  assert.deepEqual((await provider.retired()).map((h) => [h.name, h.address]), [[gone, '127.0.0.1']]);
  await assert.rejects(provider.release([ensured.hosts[0]!]), /terraform: refusing to forget tf-w0: still in .*output\.json/);

  const plan = await planRetiredHostRemoval(cluster, provider, { kubeConfig: async () => a.kubeConfig }, { drainTimeoutMs: 800, retryIntervalMs: 100 });
  try {
    assert.deepEqual(plan.steps.map((s) => s.kind), ['cordon', 'drain', 'reset', 'delete-node', 'release']);
    assert.equal(plan.steps.at(-1)!.summary, `forget host ${gone}`);
    assert.ok(plan.warnings.some((w) => w === `${gone}: left the Terraform output; kubewright drains, resets and forgets it but does not destroy Terraform's droplets (terraform apply / destroy does)`), plan.warnings.join('\n'));
    await runRemoval(plan);
  } finally {
    await plan.close();
  }
  assert.ok(!existsSync(join(lab.hosts[0]!.root, MANIFEST_PATH)), 'reset removed what apply wrote');
  assert.equal(a.api.node(gone), undefined, 'its Node is deleted');
  assert.ok(a.api.node('tf-w0'), 'the other Node stays');
  assert.deepEqual((await readStaticHosts(cluster, 'terraform')).map((h) => h.name), ['tf-w0'], 'forgotten');
  assert.ok(existsSync(staticStateFile(cluster, 'terraform')));
  assert.deepEqual(await provider.retired(), []);
  assert.deepEqual(a.api.calls.filter((c) => c.method === 'DELETE').map((c) => c.path), [`/api/v1/nodes/${gone}`], 'nothing else was deleted');
});

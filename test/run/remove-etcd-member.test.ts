// `up --prune` of a host that runs a member of the control plane's etcd: a REAL etcd (Debian's,
// 3 members on loopback, mutual TLS), a real OpenSSH host for the reset (loopback, fake root;
// systemctl there is the TEST DOUBLE of test/support/sshd-hosts.ts), the real static provider's
// state file, and the Kubernetes API TEST DOUBLE (the etcd host has no Node, so it is only asked).
// The etcd removal and its quorum refusal rest on no double.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listEtcdMembers } from '../../src/etcd/etcd-membership.ts';
import type { EtcdConnection } from '../../src/etcd/etcd-store.ts';
import { StaticProvider } from '../../src/providers/static/static-provider.ts';
import { readStaticHosts, writeStaticHosts } from '../../src/providers/static/static-state.ts';
import { planRetiredHostRemoval, runRemoval, type RemovalOptions } from '../../src/run/remove-nodes.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { startAdminApi, type AdminApi } from '../support/admin-api.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let a: AdminApi;
let etcd: EtcdTestCluster;
let dir: string;
let cluster: Cluster;
let provider: StaticProvider;
let conn: EtcdConnection;
// the test etcd's third member: its name is the retired host's, as kubewright names members
const gone = 'kw2';

before(async () => {
  [lab, a, etcd] = await Promise.all([startSshdHosts(1, 'em'), startAdminApi(), startEtcdCluster({ members: 3 })]);
  conn = { endpoints: etcd.endpoints, tls: { caPem: etcd.certs.caPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem } };
  dir = await mkdtemp(join(tmpdir(), 'kw-remove-etcd-'));
  const h = lab.hosts[0]!;
  const specFile = join(dir, 'cluster.yaml');
  const spec = `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: emtest }
profile: modern
kubernetes: { version: "1.36.2", apiServer: "${a.api.url}", clusterDNS: 10.32.0.10 }
provider:
  static:
    hosts:
      - { name: w1, address: 127.0.0.2 }
controlPlane:
  hosts:
    - { name: m1, address: 127.0.0.3 }
  etcd:
    hosts:
      - { name: kw0, address: 127.0.0.4 }
ssh: { user: root, port: ${h.port}, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }
pki: { dir: ./pki }
`;
  await writeFile(specFile, spec);
  cluster = parseCluster(spec, specFile);
  provider = new StaticProvider(cluster);
  // an earlier `up` brought up kw2 as an etcd host; the spec has since dropped it
  await writeStaticHosts(cluster, [
    { name: 'w1', address: '127.0.0.2', port: h.port, user: 'root' },
    { name: gone, address: h.address, port: h.port, user: 'root' },
  ]);
});

after(async () => {
  await Promise.all([lab?.stop(), a?.close(), etcd?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const access = (): Parameters<typeof planRetiredHostRemoval>[2] => ({ kubeConfig: async () => a.kubeConfig, etcd: async () => conn });
const opts: RemovalOptions = { drainTimeoutMs: 800 };
const memberNames = async (): Promise<string[]> => ((await listEtcdMembers(etcd.endpoints, { tls: conn.tls })) ?? []).map((m) => m.name).sort();

test('a retired etcd host leaves etcd through the member API before anything else; with a member down the rest would lose quorum, so the removal stops there and nothing is released', async () => {
  await etcd.stopMember(1);
  try {
    const plan = await planRetiredHostRemoval(cluster, provider, access(), opts);
    assert.deepEqual(plan.steps.map((s) => s.kind), ['etcd-remove', 'release']);
    assert.match(plan.steps[0]!.summary, /^remove etcd member kw2 \(http:\/\/127\.0\.0\.1:\d+\) through the member API, if the rest keep a quorum$/);
    await assert.rejects(runRemoval(plan), /removing kw2: etcd-remove failed: etcd: refusing to remove kw2 .*the 2 member\(s\) left would need 2 healthy for a quorum, 1 answer \(down: kw1\)/);
    await plan.close();
    assert.deepEqual(await memberNames(), ['kw0', 'kw1', 'kw2'], 'still a member');
    assert.ok((await readStaticHosts(cluster))?.some((x) => x.name === gone), 'not forgotten');
  } finally {
    await etcd.startMember(1);
  }
});

test('with the other members healthy it is removed, then released; a re-run has nothing left to do', async () => {
  const plan = await planRetiredHostRemoval(cluster, provider, access(), opts);
  const done = await runRemoval(plan);
  await plan.close();
  assert.match(done[0] ?? '', /^etcd member kw2 removed$/);
  assert.deepEqual(await memberNames(), ['kw0', 'kw1']);
  assert.equal((await readStaticHosts(cluster))?.some((x) => x.name === gone), false, 'forgotten');
  const again = await planRetiredHostRemoval(cluster, provider, access(), opts);
  await again.close();
  assert.deepEqual(again.steps, []);
});

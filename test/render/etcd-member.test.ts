import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapCluster, renderEtcdMember, etcdPaths } from '../../src/render/etcd-member.ts';
import { etcdBinariesFor } from '../../src/render/release-binaries.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { starterSpec } from '../../src/spec/starter.ts';
import type { Host } from '../../src/spec/host.ts';

const masters: Host[] = [0, 1, 2].map((i) => ({ name: `m${i}`, address: `192.0.2.2${i}`, privateAddress: `10.0.0.2${i}`, port: 22, user: 'root', role: 'control-plane' }));
const tls = { caPem: 'CA', peer: { certPem: 'P', keyPem: 'PK' }, server: { certPem: 'S', keyPem: 'SK' } };
const spec = (extra: string): string => `${starterSpec.replace(/^ {2}apiServer: .*\n/m, '')}controlPlane:\n  hosts:\n${masters.map((m) => `    - { name: ${m.name}, address: ${m.address}, privateAddress: ${m.privateAddress} }`).join('\n')}\n  endpoint: { address: 10.0.0.100 }\n${extra}`;

test('an etcd member serves peers and clients with TLS and client-certificate auth on its private address', () => {
  const cluster = parseCluster(spec(''));
  const r = renderEtcdMember({ cluster, member: masters[1]!, initialCluster: bootstrapCluster(masters), state: 'new', tls });
  const unit = r.files.find((f) => f.path === etcdPaths.unit)!.contents;
  for (const flag of ['--name=m1', '--data-dir=/var/lib/etcd', '--listen-peer-urls=https://10.0.0.21:2380', '--advertise-client-urls=https://10.0.0.21:2379', '--client-cert-auth=true', '--peer-client-cert-auth=true', `--peer-trusted-ca-file=${etcdPaths.ca}`]) {
    assert.ok(unit.includes(flag), `unit has ${flag}`);
  }
  assert.doesNotMatch(unit, /--enable-v2|initial-cluster/);
  const env = r.files.find((f) => f.path === etcdPaths.bootstrapEnv)!.contents;
  assert.match(env, /^ETCD_INITIAL_CLUSTER=m0=https:\/\/10\.0\.0\.20:2380,m1=https:\/\/10\.0\.0\.21:2380,m2=https:\/\/10\.0\.0\.22:2380$/m);
  assert.match(env, /^ETCD_INITIAL_CLUSTER_STATE=new$/m);
  // bootstrap.env restarts nothing when a member joins later; keys are secret files
  assert.ok(!r.units[0]!.dependsOn.includes(etcdPaths.bootstrapEnv));
  assert.ok(r.units[0]!.dependsOn.includes('/usr/local/bin/etcd'));
  assert.deepEqual(r.files.filter((f) => f.secret).map((f) => [f.path, f.mode]), [[etcdPaths.peerKey, 0o600], [etcdPaths.serverKey, 0o600]]);
});

test('flannel on etcd v2 gets --enable-v2 from etcd 3.4 on', () => {
  const cluster = parseCluster(spec('versions: { flannel: "0.17.0", etcd: "3.5.21" }\n'));
  assert.equal(cluster.etcd.api, 'v2');
  const unit = renderEtcdMember({ cluster, member: masters[0]!, initialCluster: bootstrapCluster(masters), state: 'new', tls }).files.find((f) => f.path === etcdPaths.unit)!.contents;
  assert.match(unit, /--enable-v2=true/);
});

test('etcd 3.6 (no v2 API) under flannel on etcd v2 is refused with the way out', () => {
  assert.throws(() => parseCluster(spec('versions: { flannel: "0.17.0" }\n')), (e: Error & { issues?: { path: string }[] }) => e.issues?.[0]?.path === 'versions.etcd');
});

test('etcd comes from its GitHub release with SHA256SUMS; the seed\'s 3.2.8 has none to check', () => {
  const modern = etcdBinariesFor(parseCluster(spec('')), 'arm64');
  assert.deepEqual(modern.map((b) => [b.name, b.url, b.checksumUrl, b.archiveMember]), ['etcd', 'etcdctl'].map((n) => [
    n, 'https://github.com/etcd-io/etcd/releases/download/v3.6.4/etcd-v3.6.4-linux-arm64.tar.gz', 'https://github.com/etcd-io/etcd/releases/download/v3.6.4/SHA256SUMS', `etcd-v3.6.4-linux-arm64/${n}`,
  ]));
  const seed = etcdBinariesFor(parseCluster(spec('').replace('profile: modern', 'profile: seed').replace('version: "1.36"', 'version: "1.8.0"').replace('kubeProxyMode: iptables', 'kubeProxyMode: iptables')));
  assert.equal(seed[0]!.url, 'https://github.com/coreos/etcd/releases/download/v3.2.8/etcd-v3.2.8-linux-amd64.tar.gz');
  assert.equal(seed[0]!.checksumUrl, undefined);
});

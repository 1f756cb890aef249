// `render` with a controlPlane section: the masters' and etcd hosts' trees beside the workers'
// (the real CLI, kubewright's PKI; nothing is a test double).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureEtcdClusterPki } from '../../src/pki/etcd-member-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { loadClusterFile } from '../../src/cli/load-cluster.ts';
import { etcdMemberHosts } from '../../src/spec/host.ts';
import { runCli } from '../helpers/run-cli.ts';

const spec = (etcd: string): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: cprender }
profile: modern
kubernetes: { version: "1.36" }
provider:
  static:
    hosts:
      - { name: w1, address: 203.0.113.10, privateAddress: 10.0.0.10 }
controlPlane:
  hosts:
    - { name: m1, address: 203.0.113.21, privateAddress: 10.0.1.1 }
    - { name: m2, address: 203.0.113.22, privateAddress: 10.0.1.2 }
    - { name: m3, address: 203.0.113.23, privateAddress: 10.0.1.3 }
  endpoint: { dnsName: api.cprender.example }
${etcd}pki: { dir: ./pki }
`;

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

test("stacked: each master's tree holds its etcd member and its API servers; certificate files only once the PKI holds them", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-cp-render-'));
  try {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, spec(''));
    const out = join(dir, 'out');
    let r = await runCli('render', '-f', file, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /for 4 hosts/);
    assert.match(r.stdout, /control plane: 3 master\(s\) and 3 etcd member\(s\) \(stacked\)/);
    const unit = (h: string, u: string): Promise<string> => readFile(join(out, h, 'etc/systemd/system', u), 'utf8');
    assert.match(await unit('m2', 'etcd.service'), /--initial-advertise-peer-urls=https:\/\/10\.0\.1\.2:2380/);
    assert.match(await unit('m2', 'kube-apiserver.service'), /--etcd-servers=https:\/\/10\.0\.1\.1:2379,https:\/\/10\.0\.1\.2:2379,https:\/\/10\.0\.1\.3:2379/);
    assert.match(await readFile(join(out, 'm3/etc/etcd/bootstrap.env'), 'utf8'), /ETCD_INITIAL_CLUSTER=m1=https:\/\/10\.0\.1\.1:2380,m2=https:\/\/10\.0\.1\.2:2380,m3=https:\/\/10\.0\.1\.3:2380\nETCD_INITIAL_CLUSTER_STATE=new/);
    assert.equal(await exists(join(out, 'm1/etc/etcd/peer-key.pem')), false, 'no PKI: paths only');
    assert.equal(await exists(join(out, 'w1/etc/systemd/system/etcd.service')), false, 'a worker runs no etcd');
    assert.equal(await exists(join(out, 'cluster/control-plane/apiserver-to-kubelet.yaml')), true);

    // the PKI with the control plane's and etcd's certificates: render places them, keys 0600
    assert.equal((await runCli('pki', 'issue', '-f', file)).code, 0);
    const cluster = await loadClusterFile(file);
    await ensureEtcdClusterPki(cluster, etcdMemberHosts(cluster, plannedHosts(cluster)));
    r = await runCli('render', '-f', file, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /with certificates from the PKI/);
    assert.equal((await stat(join(out, 'm1/etc/etcd/peer-key.pem'))).mode & 0o777, 0o600);
    assert.match(await readFile(join(out, 'm1/etc/etcd/server.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    assert.match(await readFile(join(out, 'm1/etc/kubernetes/pki/kube-apiserver.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('external etcd: the etcd hosts get etcd alone, the masters no etcd', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-cp-render-'));
  try {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, spec(`  etcd:
    hosts:
      - { name: e1, address: 203.0.113.31, privateAddress: 10.0.2.1 }
`));
    const out = join(dir, 'out');
    const r = await runCli('render', '-f', file, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 master\(s\) and 1 etcd member\(s\) \(external\)/);
    assert.equal(await exists(join(out, 'e1/etc/systemd/system/etcd.service')), true);
    assert.equal(await exists(join(out, 'e1/etc/systemd/system/kube-apiserver.service')), false);
    assert.equal(await exists(join(out, 'm1/etc/systemd/system/etcd.service')), false);
    assert.match(await readFile(join(out, 'm1/etc/systemd/system/kube-apiserver.service'), 'utf8'), /--etcd-servers=https:\/\/10\.0\.2\.1:2379/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// verify reads flannel's subnet leases from a real etcd (TLS, client certificates from the PKI
// directory, as `kubewright etcd leases` does): a node without a lease fails verify (exit 3).
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderCluster } from '../../src/render/cluster.ts';
import { applyDnsAddon } from '../../src/addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../../src/verify/kube-client.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { eventually, startVerifyFixture, type VerifyFixture } from './verify-fixture.ts';

describe('verify with flannel leases in etcd', () => {
  let etcd: EtcdTestCluster;
  let fx: VerifyFixture;
  const lease = async (subnet: string, ip: string): Promise<void> => {
    const r = await etcd.etcdctl(['put', `/flannel.com/network/subnets/${subnet.replace('/', '-')}`, JSON.stringify({ PublicIP: ip, BackendType: 'vxlan' })]);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    etcd = await startEtcdCluster({ members: 1 });
    fx = await startVerifyFixture({ etcdEndpoints: etcd.endpoints });
    // etcd has its own CA here: the PKI directory holds it as etcd-ca.pem, with flannel's client pair
    const dir = fx.pki.paths.dir;
    await copyFile(etcd.certs.files.ca, join(dir, 'etcd-ca.pem'));
    await copyFile(etcd.certs.files.clientCert, join(dir, 'etcd-client.pem'));
    await copyFile(etcd.certs.files.clientKey, join(dir, 'etcd-client-key.pem'));
    for (const h of fx.hosts) {
      const cred = fx.pki.credentials.kubelet[h.name];
      assert.ok(cred);
      fx.startKubelet(h.name, cred);
    }
    await applyDnsAddon(adminKubeConfig(fx.cluster.kubernetes.apiServer, fx.pki.credentials.caPem, fx.pki.admin), renderCluster({ cluster: fx.cluster, hosts: fx.hosts }).cluster);
    await eventually(() => fx.hosts.every((h) => fx.api.node(h.name) !== undefined), 30_000, 'nodes registered');
  });
  after(async () => {
    await fx?.close();
    await etcd?.stop();
  });

  test('a node without a flannel lease fails verify with exit 3, and passes once it has one', async () => {
    await lease('10.200.0.0/24', '127.0.0.20');
    await lease('10.200.1.0/24', '127.0.0.21');
    const r = await runCli('verify', '-f', fx.specFile);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /flannel: FAILED — no lease under \/flannel\.com\/network\/subnets for w2/);
    await lease('10.200.2.0/24', '127.0.0.22');
    const ok = await runCli('verify', '-f', fx.specFile, '--wait', '30s');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /flannel: ok — 3 leases: w0 10\.200\.0\.0\/24, w1 10\.200\.1\.0\/24, w2 10\.200\.2\.0\/24/);
  });

  test('--skip-flannel leaves etcd out', async () => {
    await etcd.etcdctl(['del', '/flannel.com/network/subnets/10.200.2.0-24']);
    const r = await runCli('verify', '-f', fx.specFile, '--skip-flannel', '--wait', '30s');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /flannel: skipped/);
  });
});

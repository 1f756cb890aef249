// One Node name per host, asked by render, the PKI and verify alike. The bug this guards: a host
// named `W1` registered as Node `w1` (the kubelet lowercases --hostname-override) with a
// certificate for system:node:W1, which the Node authorizer refuses, so the node never registered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCluster } from '../../src/spec/cluster.ts';
import { nodeName } from '../../src/spec/node-name.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { desiredCertificates } from '../../src/pki/cluster-certificates.ts';
import { renderCluster } from '../../src/render/cluster.ts';

const spec = `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: demo }
profile: modern
kubernetes: { version: "1.36.2", apiServer: "https://api.example.com:6443" }
provider: { static: { hosts: [{ name: W1, address: 203.0.113.7 }, { name: w2, address: 203.0.113.8 }] } }
`;

test('a host named W1 gets a kubelet certificate for the Node it registers as (system:node:w1)', () => {
  const cluster = parseCluster(spec);
  const [w1] = plannedHosts(cluster);
  assert.equal(nodeName(cluster, w1!), 'w1');
  const cert = desiredCertificates(cluster, plannedHosts(cluster)).find((c) => c.role === 'kubelet' && c.host === 'W1');
  assert.equal(cert?.request.CN, 'system:node:w1');
});

test('the rendered kubelet, kube-proxy and kubelet kubeconfig name the same Node as the certificate', () => {
  const cluster = parseCluster(spec);
  const hosts = plannedHosts(cluster);
  const certs = desiredCertificates(cluster, hosts);
  for (const host of renderCluster({ cluster, hosts }).hosts.values()) {
    const h = hosts.find((x) => x.name === host.name)!;
    const cn = certs.find((c) => c.role === 'kubelet' && c.host === host.name)?.request.CN;
    const file = (suffix: string): string => host.files.find((f) => f.path.endsWith(suffix))?.contents ?? '';
    const override = /--hostname-override=(\S+)/.exec(file('kubelet.service'))?.[1];
    assert.equal(cn, `system:node:${override}`, `${host.name}: certificate CN vs kubelet --hostname-override`);
    assert.equal(override, nodeName(cluster, h));
    assert.match(file('/var/lib/kube-proxy/config.yaml') || file('kube-proxy-config.yaml'), new RegExp(`hostnameOverride: "?${override}"?`));
  }
});

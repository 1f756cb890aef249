// Cluster specs for the etcd tests: static hosts, the given etcd endpoints and prefix.
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';

export interface TestSpecOptions {
  profile: 'seed' | 'modern';
  endpoints?: string[];
  tag?: string;
  prefix?: string;
  podCIDR?: string;
  /** a PKI directory with etcd-ca.pem, etcd-client.pem, etcd-client-key.pem */
  pkiDir?: string;
}

export function testClusterYaml(o: TestSpecOptions): string {
  const discovery = [
    o.endpoints ? `    endpoints: [${o.endpoints.join(', ')}]` : '',
    o.tag ? `    digitaloceanTag: ${o.tag}` : '',
  ].filter(Boolean);
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: etcdtest }
profile: ${o.profile}
kubernetes:
  apiServer: https://api.example.com:6443
  podCIDR: ${o.podCIDR ?? '10.200.0.0/16'}
provider:
  static:
    hosts:
      - { name: w0, address: 192.0.2.10, privateAddress: 10.133.0.10 }
      - { name: w1, address: 192.0.2.11, privateAddress: 10.133.0.11 }
      - { name: w2, address: 192.0.2.12, privateAddress: 10.133.0.12 }
etcd:
  discovery:${discovery.length ? `\n${discovery.join('\n')}` : ' {}'}
  prefix: ${o.prefix ?? '/flannel.com/network'}
${o.pkiDir ? `pki:\n  dir: ${o.pkiDir}\n` : ''}`;
}

export function testCluster(o: TestSpecOptions): Cluster {
  return parseCluster(testClusterYaml(o), 'etcd-test.yaml');
}

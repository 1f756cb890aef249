// Control-plane render inputs for tests: the shipped example specs (seed, digitalocean) at any
// version, three masters with documentation-range addresses, and etcd on their private addresses.
import type { ControlPlaneRenderInput } from '../../src/render/control-plane/input.ts';
import type { ControlPlaneCredentials } from '../../src/spec/credentials.ts';
import type { Host } from '../../src/spec/host.ts';
import { exampleCluster, type ExampleName } from './example-clusters.ts';

export const exampleMasters: Host[] = [1, 2, 3].map((i) => ({
  name: `master-${i}`,
  address: `203.0.113.${10 + i}`,
  publicAddress: `203.0.113.${10 + i}`,
  privateAddress: `10.133.0.${10 + i}`,
  port: 22,
  user: 'root',
}));

export function controlPlaneInput(name: ExampleName, version?: string, credentials?: ControlPlaneCredentials): ControlPlaneRenderInput {
  return {
    cluster: exampleCluster(name, version),
    masters: exampleMasters,
    etcdServers: exampleMasters.map((m) => `https://${m.privateAddress ?? ''}:2379`),
    credentials,
  };
}

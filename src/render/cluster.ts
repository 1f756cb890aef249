// Renders every file of every host for a cluster: pure and deterministic.
import type { Host } from '../providers/host.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { RenderedCluster } from './types.ts';

export function renderCluster(cluster: Cluster, hosts: Host[]): RenderedCluster {
  const network = JSON.stringify({ Network: cluster.kubernetes.podCIDR.text, SubnetLen: cluster.flannel.subnetLen, Backend: { Type: cluster.flannel.backend } });
  return {
    hosts: hosts.map((h) => ({ name: h.name, files: [], units: [], binaries: [] })),
    cluster: [{ path: 'flannel-network.json', mode: 0o644, contents: `${network}\n` }],
  };
}

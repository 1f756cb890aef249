// flannel's network config, stored by the operator under <etcd.prefix>/config: the pod CIDR,
// the per-node subnet size and the backend. One function for both profiles (the post and modern
// flannel read the same document; only the etcd API they read it with differs).
import type { Cluster } from '../spec/cluster.ts';
import type { RenderedFile } from './types.ts';

/** Path of the network config inside the rendered cluster/ folder. */
export const FLANNEL_NETWORK_CONFIG_PATH = 'flannel/network-config.json';

export function renderFlannelNetworkConfig(cluster: Cluster): RenderedFile {
  // key order as flannel's docs write it: Network, SubnetLen, Backend
  const config = {
    Network: cluster.kubernetes.podCIDR.text,
    SubnetLen: cluster.flannel.subnetLen,
    Backend: { Type: cluster.flannel.backend },
  };
  return { path: FLANNEL_NETWORK_CONFIG_PATH, mode: 0o644, contents: `${JSON.stringify(config, null, 2)}\n` };
}

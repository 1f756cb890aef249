// What a control-plane render needs beyond the cluster: every master (the count and their
// addresses), etcd's client URLs, and the PKI material when it is at hand.
import type { Cluster } from '../../spec/cluster.ts';
import type { ControlPlaneCredentials } from '../../spec/credentials.ts';
import type { Host } from '../../spec/host.ts';
import { cidrAddress } from '../../spec/ipv4.ts';

export interface ControlPlaneRenderInput {
  cluster: Cluster;
  /** every control-plane host, in spec order */
  masters: readonly Host[];
  /** etcd's client URLs (https://<private address>:2379 each) */
  etcdServers: readonly string[];
  /** without it the files reference certificate paths only and no certificate files are rendered */
  credentials?: ControlPlaneCredentials | undefined;
  /** the resolved Kubernetes patch release (see RenderInput.kubernetesVersion) */
  kubernetesVersion?: string | undefined;
}

/** The `kubernetes` Service's ClusterIP: the first address of serviceCIDR (what pods reach the API at). */
export function kubernetesServiceIp(cluster: Cluster): string {
  return cidrAddress(cluster.kubernetes.serviceCIDR, 1);
}

/** The address a master advertises to the cluster: its private address, else the one SSH reaches. */
export function advertiseAddress(master: Host): string | undefined {
  return master.privateAddress ?? master.address;
}

// What a control-plane render needs beyond the cluster: every master (the count and their
// addresses), etcd's client URLs, and the PKI material when it is at hand.
import type { Cluster } from '../../spec/cluster.ts';
import type { ControlPlaneCredentials } from '../../spec/credentials.ts';
import { controlPlaneHosts, etcdMemberHosts, type Host } from '../../spec/host.ts';
import { etcdClientUrl } from '../etcd-member.ts';

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

/** The address a master advertises to the cluster: its private address, else the one SSH reaches. */
export function advertiseAddress(master: Host): string | undefined {
  return master.privateAddress ?? master.address;
}

/**
 * The control-plane render input for a spec's `controlPlane:` section: its masters among `hosts`
 * (role control-plane), and etcd's client URLs on the members' private addresses (the masters when
 * etcd is stacked, the etcd hosts otherwise).
 */
export function controlPlaneRenderInput(
  cluster: Cluster,
  hosts: readonly Host[],
  opts: { credentials?: ControlPlaneCredentials | undefined; kubernetesVersion?: string | undefined } = {},
): ControlPlaneRenderInput {
  const etcd = etcdMemberHosts(cluster, hosts);
  return {
    cluster,
    masters: controlPlaneHosts(hosts),
    etcdServers: etcd.map(etcdClientUrl),
    credentials: opts.credentials,
    kubernetesVersion: opts.kubernetesVersion,
  };
}

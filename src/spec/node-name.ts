// The one place that decides the Node name a host registers as. Render (kubelet
// --hostname-override, kube-proxy hostnameOverride, the kubelet's kubeconfig user), the PKI (the
// kubelet certificate's CN system:node:<name>, which the Node authorizer matches against the Node)
// and verify (which Nodes to expect) all ask this function, so they cannot disagree.
import type { Cluster } from './cluster.ts';
import type { Host } from './host.ts';

/**
 * modern: the host's name, lowercased as the kubelet lowercases --hostname-override (a host `W1`
 * registers as Node `w1`). seed: the post's kubelet runs with --hostname-override=${PUBLIC_IP}, so
 * the Node is named by the public address when known (else the host name stands in).
 */
export function nodeName(cluster: Pick<Cluster, 'profile'>, host: Host): string {
  if (cluster.profile === 'seed') return host.publicAddress ?? host.address ?? host.name;
  return host.name.toLowerCase();
}

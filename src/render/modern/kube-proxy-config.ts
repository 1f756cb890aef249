// /var/lib/kube-proxy/config.yaml: KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) with
// the spec's proxy mode (iptables by default; nftables from 1.33, checked by the spec), the pod CIDR
// (traffic from outside it to Service IPs is masqueraded) and the node name.
import { stringify } from 'yaml';
import type { Cluster } from '../../spec/cluster.ts';
import { modernPaths } from './paths.ts';

export function renderKubeProxyConfig(cluster: Cluster, nodeName: string): string {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: modernPaths.kubeProxyKubeconfig },
    clusterCIDR: cluster.kubernetes.podCIDR.text,
    hostnameOverride: nodeName,
    mode: cluster.kubernetes.kubeProxyMode,
  };
  return stringify(config, { lineWidth: 0, indentSeq: false });
}

// /var/lib/kube-proxy/config.yaml: KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) with
// the spec's proxy mode (iptables by default; nftables from 1.33, checked by the spec), the pod CIDR
// (traffic from outside it to Service IPs is masqueraded) and the node name.
// Written line by line (the one per-node YAML file: rendering it must stay cheap for 5,000 nodes).
import { stringify } from 'yaml';
import type { Cluster } from '../../spec/cluster.ts';
import { modernPaths } from './paths.ts';

/** A YAML scalar that reads back as the same string, also for go-yaml's YAML 1.1 (`yes`, `on`, `1e3`). */
function scalar(value: string): string {
  return /^[a-z][a-z0-9.-]*$/.test(value) && !/^(y|yes|n|no|on|off|true|false|null)$/.test(value)
    ? value
    : stringify(value, { version: '1.1', lineWidth: 0 }).trimEnd();
}

export function renderKubeProxyConfig(cluster: Cluster, nodeName: string): string {
  return [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'clientConnection:',
    `  kubeconfig: ${modernPaths.kubeProxyKubeconfig}`,
    `clusterCIDR: ${cluster.kubernetes.podCIDR.text}`,
    `hostnameOverride: ${scalar(nodeName)}`,
    `mode: ${cluster.kubernetes.kubeProxyMode}`,
    '',
  ].join('\n');
}

// The post's kube-proxy.service: the kubelet's kubeconfig and the spec's proxy mode (iptables in the post).
import { flagSupported } from '../../spec/matrix.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { seedPaths } from './paths.ts';

export function seedKubeProxyArgs(cluster: Cluster): string[] {
  const k = cluster.kubernetes;
  return [`--kubeconfig=${seedPaths.kubeconfig}`, `--proxy-mode=${k.kubeProxyMode}`].filter((a) => flagSupported('kube-proxy', a, k.version));
}

export function renderSeedKubeProxyUnit(cluster: Cluster): string {
  return renderServiceUnit({
    unit: [['Description', 'kube-proxy'], ['After', 'network.target']],
    service: [
      ['ExecStart', execCommand(seedPaths.kubeProxyBinary, seedKubeProxyArgs(cluster))],
    ],
  });
}

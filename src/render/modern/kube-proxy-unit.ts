// kube-proxy.service (modern): everything is in KubeProxyConfiguration (--config). Like the post,
// it only orders after the network: kube-proxy programs Service rules whether or not pods run here.
import type { Cluster } from '../../spec/cluster.ts';
import { flagSupported } from '../../spec/matrix.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { modernPaths } from './paths.ts';

export function kubeProxyArgs(cluster: Cluster): string[] {
  return [`--config=${modernPaths.kubeProxyConfig}`].filter((a) => flagSupported('kube-proxy', a, cluster.kubernetes.version));
}

export function renderModernKubeProxyUnit(cluster: Cluster): string {
  return renderServiceUnit({
    unit: [
      ['Description', 'kube-proxy'],
      ['Documentation', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/'],
      ['After', 'network-online.target'],
      ['Wants', 'network-online.target'],
    ],
    service: [
      ['ExecStart', execCommand(modernPaths.kubeProxyBinary, kubeProxyArgs(cluster))],
    ],
  });
}

// kubelet.service (modern): settings live in KubeletConfiguration (--config); the unit passes only
// what has no config field — the kubeconfig, the node name — and, before 1.27, the CRI endpoint.
// Requires= containerd and flanneld: the kubelet can run no pod without either.
import type { Cluster } from '../../spec/cluster.ts';
import { builtInDockershim, configFieldSupported, flagSupported } from '../../spec/matrix.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { modernPaths } from './paths.ts';

/** `nodeIp`: the host's private address when known; otherwise the kubelet picks the default route's address. */
export function kubeletArgs(cluster: Cluster, nodeName: string, nodeIp?: string): string[] {
  const v = cluster.kubernetes.version;
  const args = [
    `--config=${modernPaths.kubeletConfig}`,
    `--kubeconfig=${modernPaths.kubeletKubeconfig}`,
    // the node name must match the certificate's system:node:<name>, whatever the host's hostname says
    `--hostname-override=${nodeName}`,
    ...(nodeIp ? [`--node-ip=${nodeIp}`] : []),
  ];
  // before 1.24 the default runtime was the built-in docker shim: CRI runtimes needed "remote"
  if (builtInDockershim(v)) args.push('--container-runtime=remote');
  // containerRuntimeEndpoint became a KubeletConfiguration field in 1.27; the flag before that
  if (!configFieldSupported('KubeletConfiguration', 'containerRuntimeEndpoint', v)) {
    args.push(`--container-runtime-endpoint=unix://${modernPaths.containerdSocket}`);
  }
  return args.filter((a) => flagSupported('kubelet', a, v));
}

export function renderModernKubeletUnit(cluster: Cluster, nodeName: string, nodeIp?: string): string {
  return renderServiceUnit({
    unit: [
      ['Description', 'kubelet'],
      ['Documentation', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/'],
      ['Requires', 'containerd.service flanneld.service'],
      ['After', 'network-online.target containerd.service flanneld.service'],
      ['Wants', 'network-online.target'],
    ],
    service: [
      ['ExecStart', execCommand(modernPaths.kubeletBinary, kubeletArgs(cluster, nodeName, nodeIp))],
    ],
  });
}

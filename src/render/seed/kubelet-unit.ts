// The post's kubelet.service: after docker and public_ip, node name = the droplet's public IP,
// docker as runtime, no network plugin (docker's bridge sits on the flannel subnet).
import { flagSupported } from '../../spec/matrix.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { seedPaths } from './paths.ts';

/** The post's kubelet flags in its order; those the Kubernetes minor no longer has are dropped. */
export function seedKubeletArgs(cluster: Cluster): string[] {
  const k = cluster.kubernetes;
  return [
    '--allow-privileged=true',
    `--cert-dir=${seedPaths.kubeletDir}`,
    `--cluster-dns=${k.clusterDNS}`,
    `--cluster-domain=${k.clusterDomain}`,
    '--container-runtime=docker',
    `--docker-endpoint=unix://${seedPaths.dockerSocket}`,
    '--hostname-override=${PUBLIC_IP}',
    `--kubeconfig=${seedPaths.kubeconfig}`,
    '--network-plugin=',
    `--cni-conf-dir=${seedPaths.cniConfDir}`,
    `--cni-bin-dir=${seedPaths.cniBinDir}`,
  ].filter((a) => flagSupported('kubelet', a, k.version));
}

export function renderSeedKubeletUnit(cluster: Cluster): string {
  return renderServiceUnit({
    unit: [
      ['Description', 'kubelet'],
      ['Requires', 'docker.service public_ip.service'],
      ['After', 'network.target docker.service public_ip.service'],
    ],
    service: [
      ['EnvironmentFile', seedPaths.publicIpEnv],
      ['ExecStart', execCommand(seedPaths.kubeletBinary, seedKubeletArgs(cluster))],
    ],
  });
}

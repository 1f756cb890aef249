// The seed profile's cluster-wide files: kube-dns 1.14.5 manifests and flannel's etcd network config.
import { renderFlannelNetworkConfig } from '../flannel-network.ts';
import type { RenderedFile, RenderInput } from '../types.ts';
import { renderKubeDnsDeployment, renderKubeDnsService } from './kube-dns.ts';
import { assertRenderable } from '../../spec/profile-rules.ts';

/** Paths inside cluster/, named like the post's files (`kubectl apply -f` each). */
export const seedClusterPaths = {
  kubeDnsDeployment: 'kube-dns/Deployment.yml',
  kubeDnsService: 'kube-dns/Service.yml',
} as const;

export function renderSeedClusterFiles(input: RenderInput): RenderedFile[] {
  const { cluster } = input;
  assertRenderable(cluster);
  return [
    renderFlannelNetworkConfig(cluster),
    { path: seedClusterPaths.kubeDnsDeployment, mode: 0o644, contents: renderKubeDnsDeployment(cluster) },
    { path: seedClusterPaths.kubeDnsService, mode: 0o644, contents: renderKubeDnsService(cluster) },
  ];
}

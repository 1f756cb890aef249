// The modern profile's cluster-wide files: CoreDNS manifests and flannel's etcd network config.
import type { RenderedFile, RenderInput } from '../types.ts';

export function renderModernClusterFiles(_input: RenderInput): RenderedFile[] {
  return [];
}

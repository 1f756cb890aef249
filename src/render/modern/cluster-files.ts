// The modern profile's cluster-wide files: CoreDNS manifests and flannel's etcd network config.
import { renderFlannelNetworkConfig } from '../flannel-network.ts';
import type { RenderedFile, RenderInput } from '../types.ts';
import { renderCoredns } from './coredns.ts';
import { assertRenderable } from '../../spec/profile-rules.ts';

/** Path of the CoreDNS manifests inside the rendered cluster/ folder. */
export const COREDNS_MANIFEST_PATH = 'dns/coredns.yaml';

export function renderModernClusterFiles(input: RenderInput): RenderedFile[] {
  assertRenderable(input.cluster);
  return [
    { path: COREDNS_MANIFEST_PATH, mode: 0o644, contents: renderCoredns(input.cluster) },
    renderFlannelNetworkConfig(input.cluster),
  ];
}

// Renders every file of every host for a cluster: pure and deterministic. Dispatches to the
// profile's renderers; the rendered hosts keep the order of the input hosts.
import { renderModernClusterFiles } from './modern/cluster-files.ts';
import { renderModernHost } from './modern/host.ts';
import { renderSeedClusterFiles } from './seed/cluster-files.ts';
import { renderSeedHost } from './seed/host.ts';
import { renderTerraformFiles } from './terraform.ts';
import type { RenderedCluster, RenderInput } from './types.ts';

export function renderCluster(input: RenderInput): RenderedCluster {
  const seed = input.cluster.profile === 'seed';
  return {
    hosts: input.hosts.map((h) => (seed ? renderSeedHost(input, h) : renderModernHost(input, h))),
    cluster: seed ? renderSeedClusterFiles(input) : renderModernClusterFiles(input),
    root: renderTerraformFiles(input.cluster),
  };
}

// Renders every file of every host for a cluster: pure and deterministic. Dispatches to the
// profile's renderers; the rendered hosts keep the order of the input hosts and carry their names,
// which callers pair hosts by (host names are unique: the spec and the providers check it).
import { InputError } from '../errors.ts';
import { digitaloceanTokenFile } from './etcd-lookup.ts';
import { renderModernClusterFiles } from './modern/cluster-files.ts';
import { renderModernHost } from './modern/host.ts';
import { renderSeedClusterFiles } from './seed/cluster-files.ts';
import { renderSeedHost } from './seed/host.ts';
import { renderTerraformFiles } from './terraform.ts';
import type { RenderedCluster, RenderInput } from './types.ts';
import { workerHosts } from '../spec/host.ts';

export function renderCluster(input: RenderInput): RenderedCluster {
  const seed = input.cluster.profile === 'seed';
  const names = new Set<string>();
  for (const h of input.hosts) {
    if (names.has(h.name)) throw new InputError(`hosts: ${h.name} appears twice`, { hint: 'give every host its own name' });
    names.add(h.name);
  }
  const token = input.lookupToken === undefined ? undefined : digitaloceanTokenFile(input.lookupToken);
  return {
    // control-plane and etcd hosts get their own renderers (etcd-member.ts, ...), not a worker's
    hosts: workerHosts(input.hosts).map((h) => {
      const rendered = seed ? renderSeedHost(input, h) : renderModernHost(input, h);
      return token ? { ...rendered, files: [...rendered.files, token] } : rendered;
    }),
    cluster: seed ? renderSeedClusterFiles(input) : renderModernClusterFiles(input),
    root: renderTerraformFiles(input.cluster),
  };
}


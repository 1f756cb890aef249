// Renders every file of every host for a cluster: pure and deterministic. Dispatches to the
// profile's renderers. The rendered hosts are keyed by host name (unique: checked here, by the spec
// and by the providers), in the order of the input hosts.
import { InputError } from '../errors.ts';
import { digitaloceanTokenFile, etcdMembersFile } from './etcd-lookup.ts';
import { renderModernClusterFiles } from './modern/cluster-files.ts';
import { renderModernHost } from './modern/host.ts';
import { renderSeedClusterFiles } from './seed/cluster-files.ts';
import { renderSeedHost } from './seed/host.ts';
import { renderTerraformFiles } from './terraform.ts';
import type { RenderedCluster, RenderedFile, RenderInput } from './types.ts';
import { workerHosts } from '../spec/host.ts';

const FLANNELD_UNIT_NAME = 'flanneld.service';

export function renderCluster(input: RenderInput): RenderedCluster {
  const seed = input.cluster.profile === 'seed';
  const names = new Set<string>();
  for (const h of input.hosts) {
    if (names.has(h.name)) throw new InputError(`hosts: ${h.name} appears twice`, { hint: 'give every host its own name' });
    names.add(h.name);
  }
  const token = input.lookupToken === undefined ? undefined : digitaloceanTokenFile(input.lookupToken);
  // members found at resolve time: etcd-lookup then finds a fresh file and asks no API; a changed list restarts flanneld
  const members = input.etcdMembers?.length ? etcdMembersFile(input.etcdMembers) : undefined;
  const extra = [token, members].filter((f): f is RenderedFile => f !== undefined);
  return {
    // control-plane and etcd hosts get their own renderers (etcd-member.ts, ...), not a worker's
    hosts: new Map(
      workerHosts(input.hosts).map((h) => {
        const rendered = seed ? renderSeedHost(input, h) : renderModernHost(input, h);
        if (extra.length === 0) return [h.name, rendered];
        const units = members
          ? rendered.units.map((u) => (u.name === FLANNELD_UNIT_NAME ? { ...u, dependsOn: [...u.dependsOn, members.path] } : u))
          : rendered.units;
        return [h.name, { ...rendered, files: [...rendered.files, ...extra], units }];
      }),
    ),
    cluster: seed ? renderSeedClusterFiles(input) : renderModernClusterFiles(input),
    root: renderTerraformFiles(input.cluster),
  };
}


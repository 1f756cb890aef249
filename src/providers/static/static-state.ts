// The static hosts an `up` brought up (`.kubewright/<cluster>/static.json` next to the spec):
// how kubewright still knows to drain and remove a host after it was taken out of
// provider.static.hosts. The Terraform provider keeps the same record (`terraform.json`) of the
// hosts of the saved output, for a host that left it. No secrets: names, addresses, SSH port and user.
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { readStateFile } from '../../local-disk/state-file.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import { clusterStateDir } from '../digitalocean/state-paths.ts';

const staticStateSchema = z.object({
  version: z.literal(1),
  cluster: z.string(),
  hosts: z.array(
    z.object({
      name: z.string().min(1),
      address: z.string().min(1),
      port: z.number().int(),
      user: z.string().min(1),
      publicAddress: z.string().optional(),
      privateAddress: z.string().optional(),
    }),
  ),
});

/** whose hosts: the spec's provider.static.hosts, or the saved Terraform output's */
export type RecordedHostsKind = 'static' | 'terraform';

export function staticStateFile(cluster: Pick<Cluster, 'sourceFile' | 'name'>, kind: RecordedHostsKind = 'static'): string {
  return join(clusterStateDir(cluster), `${kind}.json`);
}

/** The recorded hosts, [] before the first `up`; a corrupt file is an error naming it. */
export async function readStaticHosts(cluster: Pick<Cluster, 'sourceFile' | 'name'>, kind: RecordedHostsKind = 'static'): Promise<Host[]> {
  const path = staticStateFile(cluster, kind);
  const source = kind === 'static' ? 'the spec' : 'the Terraform output';
  const state = await readStateFile(path, staticStateSchema, `fix or delete ${path}: without it, hosts already removed from ${source} are not drained by \`up --prune\` (the hosts of ${source} are recorded again by the next \`up\`)`);
  return (state?.hosts ?? []).map((h) => ({ ...h }));
}

export async function writeStaticHosts(cluster: Pick<Cluster, 'sourceFile' | 'name'>, hosts: readonly Host[], kind: RecordedHostsKind = 'static'): Promise<void> {
  const state = {
    version: 1 as const,
    cluster: cluster.name,
    hosts: hosts.flatMap((h) => (h.address === undefined ? [] : [{
      name: h.name, address: h.address, port: h.port, user: h.user,
      ...(h.publicAddress === undefined ? {} : { publicAddress: h.publicAddress }),
      ...(h.privateAddress === undefined ? {} : { privateAddress: h.privateAddress }),
    }])),
  };
  await writeFileAtomic(staticStateFile(cluster, kind), `${JSON.stringify(state, null, 2)}\n`, 0o600, 0o700);
}

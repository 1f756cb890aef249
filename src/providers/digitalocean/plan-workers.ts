// What `ensure` would do, without doing it: one list-by-tag call (and, when something is to be
// created, the account's droplet limit: two more). For `kubewright plan` ("droplets to create")
// and for --prune previews.
import { workerName } from '../provider.ts';
import type { DigitalOceanClient } from './api-client.ts';
import { readDropletQuota } from './droplet-limit.ts';
import { listDropletsByTag } from './droplets.ts';
import { extraWorkers, type WorkerPoolSpec } from './ensure-workers.ts';

export interface WorkerPlan {
  /** names that exist (by tag), in index order */
  existing: string[];
  /** names ensure would create, in index order */
  toCreate: string[];
  /** names beyond the count, highest index first: deleted only with prune */
  extras: string[];
  /** multi-create calls ensure would make (≤ 10 names each) */
  createCalls: number;
  /** the account's droplet limit and droplets, when something is to be created and the token may read the account */
  quota?: { limit: number; existing: number };
}

export async function planWorkers(client: DigitalOceanClient, pool: WorkerPoolSpec, count: number): Promise<WorkerPlan> {
  const listed = await listDropletsByTag(client, pool.tags[0] ?? 'k8s-worker');
  const names = new Set(listed.map((d) => d.name));
  const wanted = Array.from({ length: count }, (_, i) => workerName(pool.namePattern, i, pool.domain));
  const toCreate = wanted.filter((n) => !names.has(n));
  const quota = toCreate.length > 0 ? await readDropletQuota(client) : undefined;
  return {
    existing: wanted.filter((n) => names.has(n)),
    toCreate,
    extras: extraWorkers(listed, pool, new Set(wanted)).map((d) => d.name),
    createCalls: Math.ceil(toCreate.length / 10),
    ...(quota ? { quota } : {}),
  };
}

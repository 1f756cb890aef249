// The control plane's droplets on DigitalOcean: one pool per role beside the workers' pool, each
// named and tagged for its role, so each role is one batched create. etcd members carry the tag
// etcd-lookup searches on the workers (etcd.discovery.digitaloceanTag, `k8s-etcd` by default):
// the masters when etcd is stacked on them, else etcd's own droplets.
import type { Cluster } from '../../spec/cluster.ts';
import { defaultEtcdTag } from '../../spec/cluster.ts';
import type { HostRole } from '../../spec/host.ts';
import { controlPlaneNamePatterns } from '../provider.ts';
import type { WorkerPoolSpec } from './ensure-workers.ts';

/** The tag every control-plane droplet carries (tags[0] of its pool: listed and polled by it). */
export const controlPlaneTag = 'k8s-master';

export interface RolePool {
  role: HostRole;
  pool: WorkerPoolSpec;
  count: number;
}

export function controlPlanePools(cluster: Cluster, workers: WorkerPoolSpec): RolePool[] {
  const cp = cluster.controlPlane;
  if (!cp) return [];
  const etcdTag = cluster.etcd.discovery.digitaloceanTag ?? defaultEtcdTag;
  const pool = (role: HostRole, tags: string[]): WorkerPoolSpec => ({ ...workers, tags, namePattern: controlPlaneNamePatterns[role] });
  if (cp.etcd.placement === 'stacked') return [{ role: 'control-plane', pool: pool('control-plane', [controlPlaneTag, etcdTag]), count: cp.count }];
  return [
    { role: 'control-plane', pool: pool('control-plane', [controlPlaneTag]), count: cp.count },
    { role: 'etcd', pool: pool('etcd', [etcdTag]), count: cp.etcd.count },
  ];
}

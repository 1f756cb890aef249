// The control plane's droplets on DigitalOcean: one pool per role beside the workers' pool, each
// named and tagged for its role (spec/control-plane-droplets.ts, shared with the Terraform JSON),
// so each role is one batched create. etcd members carry the tag etcd-lookup searches on the
// workers (etcd.discovery.digitaloceanTag, `k8s-etcd` by default): the masters when etcd is
// stacked on them, else etcd's own droplets.
import type { Cluster } from '../../spec/cluster.ts';
import { controlPlaneDropletRoles } from '../../spec/control-plane-droplets.ts';
import type { HostRole } from '../../spec/host.ts';
import type { WorkerPoolSpec } from './ensure-workers.ts';

export interface RolePool {
  role: HostRole;
  pool: WorkerPoolSpec;
  count: number;
}

export function controlPlanePools(cluster: Cluster, workers: WorkerPoolSpec): RolePool[] {
  return controlPlaneDropletRoles(cluster).map((r) => ({ role: r.role, pool: { ...workers, tags: r.tags, namePattern: r.namePattern }, count: r.count }));
}

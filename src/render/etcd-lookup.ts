// etcd-lookup: the on-node script that asks the DigitalOcean API (read-only token) for droplets
// tagged as etcd members and writes ETCD_MEMBERS to /etc/flannel/etcd-members, and its unit.
import type { Cluster } from '../spec/cluster.ts';
import type { RenderedFile, RenderedUnit } from './types.ts';

export function renderEtcdLookup(_cluster: Cluster): { files: RenderedFile[]; unit: RenderedUnit } {
  return { files: [], unit: { name: 'etcd-lookup.service', dependsOn: [] } };
}

// flannel's subnet leases: one key per node under <prefix>/subnets/, named after the subnet
// (`10.200.5.0-24`; dual-stack flannel appends `&<ipv6>-<len>`), holding JSON with the node's
// PublicIP. The same layout in v2 (flannel < 0.18) and v3 (≥ 0.18, keys bound to an etcd lease).
import type { Host } from '../spec/host.ts';
import { openEtcdStore, type EtcdConnection, type EtcdStore } from './etcd-store.ts';

export interface FlannelLease {
  /** the etcd key, e.g. /flannel.com/network/subnets/10.200.5.0-24 */
  key: string;
  /** the node's pod subnet, e.g. 10.200.5.0/24 */
  subnet: string;
  /** the address flanneld registered (its -public-ip / interface address); undefined if the value is unreadable */
  publicIp: string | undefined;
  backendType: string | undefined;
}

export interface LeaseAssignment {
  host: Host;
  lease: FlannelLease;
  /** which of the host's addresses matched the lease's PublicIP */
  matchedAddress: string;
}

export interface LeaseMapping {
  assigned: LeaseAssignment[];
  /** nodes flanneld has not (yet) registered: no lease carries any of their addresses */
  nodesWithoutLease: Host[];
  /** leases no listed node claims (other nodes, the master, stale leases, a node's second lease) */
  unmatchedLeases: FlannelLease[];
}

/** Parses one lease as flannel writes it; undefined for keys that are not subnet leases. */
export function parseFlannelLease(key: string, value: string, prefix: string): FlannelLease | undefined {
  const dir = `${prefix}/subnets/`;
  if (!key.startsWith(dir)) return undefined;
  const name = key.slice(dir.length);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,2})(?:&.*)?$/.exec(name);
  if (!v4) return undefined;
  let publicIp: string | undefined;
  let backendType: string | undefined;
  try {
    const j = JSON.parse(value) as { PublicIP?: unknown; BackendType?: unknown };
    if (typeof j.PublicIP === 'string' && j.PublicIP !== '') publicIp = j.PublicIP;
    if (typeof j.BackendType === 'string') backendType = j.BackendType;
  } catch {
    // an unreadable value still shows up, as a lease no node claims
  }
  return { key, subnet: `${v4[1]}/${v4[2]}`, publicIp, backendType };
}

/** Every subnet lease under <prefix>/subnets/, in key order. */
export async function listFlannelLeases(store: EtcdStore, prefix: string): Promise<FlannelLease[]> {
  const kvs = await store.list(`${prefix}/subnets`);
  return kvs.map((kv) => parseFlannelLease(kv.key, kv.value, prefix)).filter((l): l is FlannelLease => l !== undefined);
}

/**
 * Maps leases to nodes by address: a lease belongs to the node whose public, private or SSH
 * address equals its PublicIP. Pure; `verify` reports `nodesWithoutLease`.
 */
export function mapLeasesToNodes(leases: readonly FlannelLease[], hosts: readonly Host[]): LeaseMapping {
  const byIp = new Map<string, FlannelLease[]>();
  for (const l of leases) {
    if (l.publicIp === undefined) continue;
    byIp.set(l.publicIp, [...(byIp.get(l.publicIp) ?? []), l]);
  }
  const claimed = new Set<FlannelLease>();
  const assigned: LeaseAssignment[] = [];
  const nodesWithoutLease: Host[] = [];
  for (const host of hosts) {
    const addresses = [host.publicAddress, host.privateAddress, host.address].filter((a): a is string => !!a);
    let found: LeaseAssignment | undefined;
    for (const a of addresses) {
      const lease = byIp.get(a)?.find((l) => !claimed.has(l));
      if (lease) {
        found = { host, lease, matchedAddress: a };
        break;
      }
    }
    if (found) {
      claimed.add(found.lease);
      assigned.push(found);
    } else nodesWithoutLease.push(host);
  }
  return { assigned, nodesWithoutLease, unmatchedLeases: leases.filter((l) => !claimed.has(l)) };
}

/**
 * What `verify` plugs in: reads the leases through the cluster's etcd API (v2 for flannel < 0.18,
 * v3 otherwise) and maps them to the hosts it is given.
 */
export function flannelLeaseMapper(
  cluster: { etcd: { api: 'v2' | 'v3'; prefix: string } },
  conn: EtcdConnection,
): (hosts: Host[]) => Promise<LeaseMapping> {
  return async (hosts) => {
    const store = openEtcdStore(cluster.etcd.api, conn);
    try {
      return mapLeasesToNodes(await listFlannelLeases(store, cluster.etcd.prefix), hosts);
    } finally {
      store.close();
    }
  };
}

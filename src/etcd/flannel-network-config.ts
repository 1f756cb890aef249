// Writes flannel's network config to <prefix>/config — v2 keys API for flannel < 0.18 (seed),
// v3 for flannel ≥ 0.18 (modern) — idempotently: an equal value is left alone (no write, the
// key's revision stays), and a change on a cluster whose flanneld already hold subnet leases
// is refused unless forced, because it breaks every running pod's network.
import { renderFlannelNetworkConfig } from '../render/flannel-network.ts';
import type { Cluster } from '../spec/cluster.ts';
import { NetworkConfigChangeRefusedError } from './etcd-errors.ts';
import type { EtcdStore } from './etcd-store.ts';

export interface NetworkConfigResult {
  key: string;
  /** what was (or, with dryRun, would be) done */
  action: 'create' | 'update' | 'unchanged';
  written: boolean;
  /** the key's revision after the call (v2 modifiedIndex / v3 mod_revision); undefined if absent in a dry run */
  revision: number | undefined;
  value: string;
  previous?: string | undefined;
  /** fields that differ, e.g. `Network 10.200.0.0/16 → 10.201.0.0/16` */
  changes: string[];
}

export function networkConfigKey(cluster: Cluster): string {
  return `${cluster.etcd.prefix}/config`;
}

/** The value flannel reads: the rendered network config as one compact JSON line. */
export function networkConfigValue(cluster: Cluster): string {
  return JSON.stringify(JSON.parse(renderFlannelNetworkConfig(cluster).contents));
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeChanges(previous: string, wanted: string): string[] {
  const a = parseJson(previous);
  const b = parseJson(wanted) as Record<string, unknown>;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return ['the current value is not a JSON object'];
  const old = a as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(old), ...Object.keys(b)])];
  return keys
    .filter((k) => canonical(old[k]) !== canonical(b[k]))
    .map((k) => `${k} ${old[k] === undefined ? '(unset)' : canonical(old[k])} → ${b[k] === undefined ? '(unset)' : canonical(b[k])}`);
}

export async function writeFlannelNetworkConfig(
  store: EtcdStore,
  cluster: Cluster,
  opts: { force?: boolean; dryRun?: boolean } = {},
): Promise<NetworkConfigResult> {
  const key = networkConfigKey(cluster);
  const value = networkConfigValue(cluster);
  const current = await store.get(key);
  if (current === undefined) {
    if (opts.dryRun) return { key, action: 'create', written: false, revision: undefined, value, changes: [] };
    const revision = await store.putIfUnchanged(key, value, undefined);
    return { key, action: 'create', written: true, revision, value, changes: [] };
  }
  const parsed = parseJson(current.value);
  if (parsed !== undefined && canonical(parsed) === canonical(JSON.parse(value))) {
    return { key, action: 'unchanged', written: false, revision: current.revision, value, previous: current.value, changes: [] };
  }
  const changes = describeChanges(current.value, value);
  if (!opts.force) {
    const leases = await store.list(`${cluster.etcd.prefix}/subnets`);
    if (leases.length > 0) throw new NetworkConfigChangeRefusedError(key, changes, leases.length);
  }
  if (opts.dryRun) return { key, action: 'update', written: false, revision: current.revision, value, previous: current.value, changes };
  const revision = await store.putIfUnchanged(key, value, current.revision);
  return { key, action: 'update', written: true, revision, value, previous: current.value, changes };
}

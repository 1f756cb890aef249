// Which etcd members flannel talks to: the union, deduplicated, of droplets tagged as etcd
// (their private addresses, from the DigitalOcean API), the spec's static endpoints, and the
// member list of the etcd those answer from (v3 MemberList, so members added later are found).
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import { endpointForIp, normalizeEtcdEndpoint, sortEndpoints } from '../spec/etcd-endpoint.ts';
import { EtcdUnreachableError } from './etcd-errors.ts';
import type { EtcdTls } from './etcd-tls.ts';
import { EtcdV3Store } from './etcd-v3-store.ts';

export type EtcdMemberSource = 'digitalocean' | 'static' | 'member-list';

export interface DiscoverEtcdMembersOptions {
  /** the DigitalOcean side (the DO provider's listEtcdEndpoints or our own API lister) */
  listDropletPrivateIps?: ((tag: string) => Promise<string[]>) | undefined;
  /** ask the members found for etcd's member list; needs etcd's CA and a client certificate */
  memberList?: { tls: EtcdTls; timeoutMs?: number } | undefined;
  /** more endpoints to start from (e.g. --endpoints) */
  extraEndpoints?: string[] | undefined;
}

export interface EtcdMembers {
  /** sorted, deduplicated client URLs */
  endpoints: string[];
  /** where each endpoint came from */
  sources: Record<string, EtcdMemberSource[]>;
}

export async function discoverEtcdMembers(cluster: Cluster, opts: DiscoverEtcdMembersOptions = {}): Promise<EtcdMembers> {
  const sources = new Map<string, Set<EtcdMemberSource>>();
  const add = (url: string, source: EtcdMemberSource): void => {
    const e = normalizeEtcdEndpoint(url);
    sources.set(e, (sources.get(e) ?? new Set()).add(source));
  };
  const { digitaloceanTag: tag, endpoints = [] } = cluster.etcd.discovery;
  if (tag !== undefined) {
    if (!opts.listDropletPrivateIps) {
      throw new InputError(`etcd.discovery.digitaloceanTag: finding droplets tagged "${tag}" needs the DigitalOcean API`, {
        hint: 'set DIGITALOCEAN_ACCESS_TOKEN (a read-only token is enough) or pass --token-file, or pass --endpoints',
      });
    }
    for (const ip of await opts.listDropletPrivateIps(tag)) add(endpointForIp(ip), 'digitalocean');
  }
  for (const e of endpoints) add(e, 'static');
  for (const e of opts.extraEndpoints ?? []) add(e, 'static');

  if (opts.memberList) {
    const seeds = sortEndpoints(sources.keys());
    if (seeds.length === 0) throw new EtcdUnreachableError([], []);
    const store = new EtcdV3Store({ endpoints: seeds, tls: opts.memberList.tls, timeoutMs: opts.memberList.timeoutMs });
    try {
      for (const m of await store.memberList()) for (const u of m.clientURLs) add(u, 'member-list');
    } finally {
      store.close();
    }
  }
  const sorted = sortEndpoints(sources.keys());
  return { endpoints: sorted, sources: Object.fromEntries(sorted.map((e) => [e, [...(sources.get(e) ?? [])]])) };
}

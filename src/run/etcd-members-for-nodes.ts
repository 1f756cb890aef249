// The etcd members kubewright writes to every node at apply time (/etc/flannel/etcd-members): one
// listing of etcd.discovery.digitaloceanTag for the whole fleet, with the nodes' own read-only
// token, instead of one listing per node. etcd-lookup on the node then finds a fresh file and asks
// no API — at apply (where a start delay would hold apply up) and at every boot within a day; it
// asks only when the file is missing or old (docs/etcd-flannel.md, docs/scale.md). When the
// listing fails, nothing is written and the nodes look the members up themselves, as before.
import type { Cluster } from '../spec/cluster.ts';
import { discoverEtcdMembers } from '../etcd/etcd-discovery.ts';
import { DigitalOceanClient } from '../providers/digitalocean/api-client.ts';
import { listEtcdEndpoints } from '../providers/digitalocean/etcd-endpoints.ts';
import { resolveApiUrl } from '../providers/digitalocean/token.ts';

export interface EtcdMembersForNodes {
  /** client URLs to render, or undefined: leave the file to etcd-lookup */
  members: string[] | undefined;
  note: string | undefined;
}

export async function etcdMembersForNodes(
  cluster: Cluster,
  lookupToken: string | undefined,
  opts: { apiUrl?: string | undefined; env?: NodeJS.ProcessEnv | undefined } = {},
): Promise<EtcdMembersForNodes> {
  const tag = cluster.etcd.discovery.digitaloceanTag;
  // static endpoints alone: the node's script writes them without any API, nothing to save
  if (tag === undefined || lookupToken === undefined) return { members: undefined, note: undefined };
  const leftToNodes = 'each node looks them up itself at its first start (etcd-lookup, spread over a random delay)';
  try {
    const client = new DigitalOceanClient({ token: lookupToken, baseUrl: resolveApiUrl(opts.apiUrl, opts.env ?? process.env), maxAttempts: 2, maxRetryMs: 15_000, requestTimeoutMs: 10_000 });
    const found = await discoverEtcdMembers(cluster, { listDropletPrivateIps: async (t) => (await listEtcdEndpoints(client, t)).map((e) => new URL(e).hostname) });
    if (found.endpoints.length === 0) return { members: undefined, note: `etcd.discovery.digitaloceanTag (${tag}): no etcd member found yet: ${leftToNodes}` };
    return { members: found.endpoints, note: undefined };
  } catch (e) {
    // the client redacts the token from anything it reports
    const why = e instanceof Error ? e.message : String(e);
    return { members: undefined, note: `etcd.discovery.digitaloceanTag (${tag}): the etcd members could not be listed with the lookup token (${why}): ${leftToNodes}` };
  }
}

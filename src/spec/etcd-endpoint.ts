// One spelling for an etcd client URL, so that the union of discovery sources deduplicates and
// the rendered ETCD_MEMBERS line is stable: `scheme://host:port`, no path, no trailing slash.

/** The etcd client port every DigitalOcean etcd droplet serves (etcd's default). */
export const ETCD_CLIENT_PORT = 2379;

export function normalizeEtcdEndpoint(url: string): string {
  const u = new URL(url.trim());
  return `${u.protocol}//${u.host}`;
}

export function endpointForIp(ip: string): string {
  return `https://${ip}:${ETCD_CLIENT_PORT}`;
}

/** Deduplicated and in byte order — the same order the on-node script's `LC_ALL=C sort -u` gives. */
export function sortEndpoints(endpoints: Iterable<string>): string[] {
  return [...new Set(endpoints)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The line flanneld's EnvironmentFile holds (the post's /etc/flannel/etcd-members). */
export function formatEtcdMembersLine(endpoints: readonly string[]): string {
  return `ETCD_MEMBERS=${endpoints.join(',')}`;
}

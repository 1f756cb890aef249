// etcd discovery as the post's etcd-lookup does it: droplets tagged as etcd members → their
// private IPv4 → https://<ip>:2379, sorted so the result is stable.
import type { DigitalOceanClient } from './api-client.ts';
import { dropletAddresses, listDropletsByTag } from './droplets.ts';
import { openDigitalOceanClient } from './open-client.ts';

export async function listEtcdEndpoints(client: DigitalOceanClient, tag: string): Promise<string[]> {
  const droplets = await listDropletsByTag(client, tag);
  const ips = droplets.map((d) => dropletAddresses(d).privateAddress).filter((ip): ip is string => ip !== undefined);
  return [...new Set(ips)].sort(compareIPv4).map((ip) => `https://${ip}:2379`);
}

/** Lists the private IPv4 of the droplets carrying a tag; the token is read only when it is called. */
export function dropletPrivateIpLister(access: { tokenFile?: string | undefined; apiUrl?: string | undefined; env?: NodeJS.ProcessEnv | undefined }): (tag: string) => Promise<string[]> {
  return async (tag) => {
    const client = await openDigitalOceanClient({ tokenFile: access.tokenFile, apiUrl: access.apiUrl, env: access.env ?? process.env });
    return (await listEtcdEndpoints(client, tag)).map((e) => new URL(e).hostname);
  };
}

function compareIPv4(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

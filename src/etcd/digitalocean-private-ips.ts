// The private IPv4 addresses of droplets with a tag, from the DigitalOcean API (all pages).
// A small stand-in so `kubewright etcd` works on its own; the DigitalOcean provider's
// listEtcdEndpoints can be passed to discoverEtcdMembers instead.
import { KubewrightError } from '../errors.ts';

export const DIGITALOCEAN_API_URL = 'https://api.digitalocean.com';

interface DropletPage {
  droplets?: { networks?: { v4?: { ip_address?: string; type?: string }[] } }[];
  links?: { pages?: { next?: string } };
}

export interface DigitaloceanApi {
  token: string;
  /** default https://api.digitalocean.com (DIGITALOCEAN_API_URL overrides it) */
  apiUrl?: string | undefined;
}

const MAX_PAGES = 100;

export function digitaloceanPrivateIpLister(api: DigitaloceanApi): (tag: string) => Promise<string[]> {
  const base = (api.apiUrl ?? DIGITALOCEAN_API_URL).replace(/\/+$/, '');
  return async (tag) => {
    const ips: string[] = [];
    // page numbers rather than links.pages.next: the token only ever goes to the configured base URL
    for (let page = 1; page <= MAX_PAGES; page++) {
      const url = `${base}/v2/droplets?tag_name=${encodeURIComponent(tag)}&per_page=200&page=${page}`;
      let res: Response;
      try {
        res = await fetch(url, { headers: { authorization: `Bearer ${api.token}`, accept: 'application/json' }, signal: AbortSignal.timeout(20_000) });
      } catch (e) {
        throw new KubewrightError(`digitalocean api ${base}: cannot list droplets tagged "${tag}" (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})`, {
          hint: 'check the network and DIGITALOCEAN_API_URL',
        });
      }
      if (res.status === 401 || res.status === 403) {
        throw new KubewrightError(`digitalocean api: token rejected listing droplets tagged "${tag}" (HTTP ${res.status})`, {
          hint: 'set DIGITALOCEAN_ACCESS_TOKEN (or --token-file) to a valid token; read scope is enough',
        });
      }
      if (!res.ok) {
        throw new KubewrightError(`digitalocean api: listing droplets tagged "${tag}" failed (HTTP ${res.status})`, {
          hint: res.status === 429 ? 'rate limited: wait a minute and retry' : 'retry later; check https://status.digitalocean.com',
        });
      }
      const body = (await res.json()) as DropletPage;
      for (const d of body.droplets ?? []) {
        for (const n of d.networks?.v4 ?? []) if (n.type === 'private' && n.ip_address) ips.push(n.ip_address);
      }
      if (!body.links?.pages?.next) return ips;
    }
    throw new KubewrightError(`digitalocean api: more than ${MAX_PAGES} pages of droplets tagged "${tag}"`, { hint: 'use a tag that only etcd droplets carry' });
  };
}

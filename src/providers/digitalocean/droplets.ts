// Droplet endpoints kubewright uses: list by tag, multi-create, delete by id (never by tag: a
// delete must touch only droplets someone has seen).
import type { DigitalOceanClient } from './api-client.ts';
import { DigitalOceanApiError } from './errors.ts';

/** The droplet fields kubewright reads (the API returns many more). */
export interface Droplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive' | string;
  tags: string[];
  networks: { v4?: { ip_address: string; type: string }[] };
  created_at?: string;
}

export interface DropletCreateRequest {
  names: string[];
  region: string;
  size: string;
  image: string | number;
  tags: string[];
  ssh_keys: (string | number)[];
  vpc_uuid?: string;
  user_data?: string;
}

// "Up to ten Droplets may be created this way at a time." (POST /v2/droplets, droplets_create)
export const maxNamesPerCreate = 10;

export function listDropletsByTag(client: DigitalOceanClient, tag: string): Promise<Droplet[]> {
  return client.listAll<Droplet>('/v2/droplets', 'droplets', { tag_name: tag });
}

/** One multi-create call (≤ 10 names). Throws DigitalOceanUncertainError when the outcome is unknown. */
export async function createDroplets(client: DigitalOceanClient, req: DropletCreateRequest): Promise<Droplet[]> {
  if (req.names.length === 0 || req.names.length > maxNamesPerCreate) {
    throw new RangeError(`createDroplets: 1..${maxNamesPerCreate} names per call (got ${req.names.length})`);
  }
  const { body } = await client.request<{ droplets?: Droplet[]; droplet?: Droplet }>('POST', '/v2/droplets', { body: req });
  return body.droplets ?? (body.droplet ? [body.droplet] : []);
}

export async function deleteDroplet(client: DigitalOceanClient, id: number): Promise<void> {
  await client.request('DELETE', `/v2/droplets/${id}`);
}

/** DELETE by id; a droplet that is already gone (404, e.g. a retried DELETE that had succeeded) counts as deleted. */
export async function deleteDropletIfPresent(client: DigitalOceanClient, id: number): Promise<void> {
  try {
    await deleteDroplet(client, id);
  } catch (e) {
    if (!(e instanceof DigitalOceanApiError && e.status === 404)) throw e;
  }
}

export function dropletAddresses(d: Droplet): { publicAddress: string | undefined; privateAddress: string | undefined } {
  const v4 = d.networks.v4 ?? [];
  return {
    publicAddress: v4.find((n) => n.type === 'public')?.ip_address,
    privateAddress: v4.find((n) => n.type === 'private')?.ip_address,
  };
}

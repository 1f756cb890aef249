// The quota that bites first at scale: an account (or team) may run only `droplet_limit` droplets
// at once, and new accounts start low. Checked before the first create of a run, so 1,000 workers
// against a limit of 25 stop with the numbers and the way to raise it, instead of after 25
// creates with a 422. Two calls: GET /v2/account, and one droplet per page for meta.total.
import { KubewrightError } from '../../errors.ts';
import type { DigitalOceanClient } from './api-client.ts';
import { DigitalOceanApiError } from './errors.ts';

export class DropletLimitError extends KubewrightError {
  readonly limit: number;
  readonly existing: number;
  constructor(adding: number, limit: number, existing: number) {
    super(`digitalocean: creating ${adding} droplets would pass the account's droplet limit of ${limit} (${existing} droplets exist already); nothing was created`, {
      hint: `ask DigitalOcean to raise the limit to at least ${existing + adding} (control panel: account or team settings, "Droplet limit", request an increase), or lower workers.count; then rerun`,
    });
    this.limit = limit;
    this.existing = existing;
  }
}

/** The account's limit and how many droplets it has, or undefined when the token may not read the account (403). */
export async function readDropletQuota(client: DigitalOceanClient): Promise<{ limit: number; existing: number } | undefined> {
  let limit: unknown;
  try {
    const { body } = await client.request<{ account?: { droplet_limit?: unknown } }>('GET', '/v2/account');
    limit = body.account?.droplet_limit;
  } catch (e) {
    // a token scoped without account:read: the API's own 422 at the limit remains the guard
    if (e instanceof DigitalOceanApiError && e.status === 403) return undefined;
    throw e;
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) return undefined;
  const { body } = await client.request<{ meta?: { total?: unknown } }>('GET', '/v2/droplets', { query: { per_page: 1 } });
  const total = body.meta?.total;
  return { limit, existing: typeof total === 'number' ? total : 0 };
}

/** Throws DropletLimitError when `adding` more droplets would not fit. */
export async function checkDropletLimit(client: DigitalOceanClient, adding: number): Promise<void> {
  const quota = await readDropletQuota(client);
  if (quota && quota.existing + adding > quota.limit) throw new DropletLimitError(adding, quota.limit, quota.existing);
}

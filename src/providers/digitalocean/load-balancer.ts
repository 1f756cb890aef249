// The API load balancer on DigitalOcean (/v2/load_balancers), in front of more than one master:
// found by name first (names are not unique on DigitalOcean: the oldest wins), created with one
// POST when missing, TCP pass-through to the droplets tagged k8s-master with a TCP health check
// (spec/control-plane-droplets.ts, shared with the Terraform JSON). As for droplets and the
// firewall, a create whose outcome is unknown is never repeated blindly: the list by name decides.
// DigitalOcean gives the balancer its IP once it is provisioned, so ensure waits for the address.
import type { ApiLoadBalancerDesign } from '../../spec/control-plane-droplets.ts';
import { systemClock, type Clock, type DigitalOceanClient } from './api-client.ts';
import { DigitalOceanApiError, DigitalOceanUncertainError } from './errors.ts';
import { ensureTags } from './firewall.ts';

/** The load-balancer fields kubewright reads. */
export interface LoadBalancer {
  id: string;
  name: string;
  ip?: string | undefined;
  status?: string | undefined;
  created_at?: string | undefined;
  tag?: string | undefined;
}

export interface LoadBalancerOutcome {
  name: string;
  id: string;
  /** the balancer's public IPv4 address: the API endpoint's address */
  ip: string;
  action: 'created' | 'unchanged';
}

/** The POST body for a design: balancing by tag, so masters added later are behind it at once. */
export function loadBalancerRequest(d: ApiLoadBalancerDesign): Record<string, unknown> {
  return {
    name: d.name,
    region: d.region,
    tag: d.dropletTag,
    ...(d.vpcUuid ? { vpc_uuid: d.vpcUuid } : {}),
    forwarding_rules: [{ entry_protocol: 'tcp', entry_port: d.entryPort, target_protocol: 'tcp', target_port: d.targetPort }],
    health_check: {
      protocol: d.healthCheck.protocol,
      port: d.healthCheck.port,
      check_interval_seconds: d.healthCheck.checkIntervalSeconds,
      response_timeout_seconds: d.healthCheck.responseTimeoutSeconds,
      healthy_threshold: d.healthCheck.healthyThreshold,
      unhealthy_threshold: d.healthCheck.unhealthyThreshold,
    },
    // firewall.apiFrom narrowed: the balancer's own firewall admits only those
    ...(d.allowFrom ? { firewall: { allow: d.allowFrom, deny: [] } } : {}),
  };
}

/** Every load balancer named `name`, oldest first. */
export async function findLoadBalancers(client: DigitalOceanClient, name: string): Promise<LoadBalancer[]> {
  const all = await client.listAll<LoadBalancer>('/v2/load_balancers', 'load_balancers');
  return all.filter((l) => l.name === name).sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.id.localeCompare(b.id));
}

async function create(client: DigitalOceanClient, d: ApiLoadBalancerDesign): Promise<LoadBalancer | undefined> {
  try {
    const { body } = await client.request<{ load_balancer?: LoadBalancer }>('POST', '/v2/load_balancers', { body: loadBalancerRequest(d) });
    if (body.load_balancer?.id) return body.load_balancer;
  } catch (e) {
    if (!(e instanceof DigitalOceanUncertainError)) throw e;
  }
  // the outcome is unknown (or the answer had no id): the list decides; a second create only if it is really missing
  const after = (await findLoadBalancers(client, d.name))[0];
  if (after) return after;
  const { body } = await client.request<{ load_balancer?: LoadBalancer }>('POST', '/v2/load_balancers', { body: loadBalancerRequest(d) });
  return body.load_balancer?.id ? body.load_balancer : undefined;
}

export interface EnsureLoadBalancerOptions {
  clock?: Clock;
  /** how long to wait for DigitalOcean to give the balancer its IP (default 10 minutes) */
  timeoutMs?: number;
  /** between reads while it has none (default 5 s) */
  pollMs?: number;
}

/** A balancer found or just created, before it has an address. */
export interface PendingLoadBalancer {
  lb: LoadBalancer;
  action: LoadBalancerOutcome['action'];
}

/**
 * The API load balancer: the oldest of its name, else one created (its tag created first, unless
 * `tagsCreated` says this run made it). Its id is known at once: the masters' firewall admits it.
 */
export async function findOrCreateApiLoadBalancer(client: DigitalOceanClient, d: ApiLoadBalancerDesign, tagsCreated: Set<string> = new Set()): Promise<PendingLoadBalancer> {
  const existing = (await findLoadBalancers(client, d.name))[0];
  if (existing) return { lb: existing, action: 'unchanged' };
  // DigitalOcean balances by a tag only once that tag exists
  await ensureTags(client, [d.dropletTag], tagsCreated);
  const lb = await create(client, d);
  if (!lb) throw new DigitalOceanApiError('digitalocean: POST /v2/load_balancers: answer has no load balancer id', { status: 202 });
  return { lb, action: 'created' };
}

/** The API load balancer found or created, then its IP, read by id until DigitalOcean has assigned one. */
export async function ensureApiLoadBalancer(client: DigitalOceanClient, d: ApiLoadBalancerDesign, opts: EnsureLoadBalancerOptions = {}): Promise<LoadBalancerOutcome> {
  return awaitLoadBalancerIp(client, d, await findOrCreateApiLoadBalancer(client, d), opts);
}

/** Reads the balancer by id until DigitalOcean has given it an IP (or the timeout passes). */
export async function awaitLoadBalancerIp(client: DigitalOceanClient, d: ApiLoadBalancerDesign, pending: PendingLoadBalancer, opts: EnsureLoadBalancerOptions = {}): Promise<LoadBalancerOutcome> {
  const { lb, action } = pending;
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + (opts.timeoutMs ?? 600_000);
  let ip = lb.ip;
  while (!ip) {
    const { body } = await client.request<{ load_balancer?: LoadBalancer }>('GET', `/v2/load_balancers/${lb.id}`);
    ip = body.load_balancer?.ip;
    if (ip) break;
    if (clock.now() >= deadline) {
      throw new DigitalOceanApiError(`digitalocean: load balancer ${d.name} (${lb.id}) has no IP address after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s (status ${body.load_balancer?.status ?? 'unknown'}); run again to keep waiting`, { status: 200 });
    }
    await clock.sleep(opts.pollMs ?? 5_000);
  }
  return { name: d.name, id: lb.id, ip, action };
}

/** DELETE by id; a balancer that is already gone counts as deleted. */
export async function deleteLoadBalancer(client: DigitalOceanClient, id: string): Promise<void> {
  try {
    await client.request('DELETE', `/v2/load_balancers/${id}`);
  } catch (e) {
    if (!(e instanceof DigitalOceanApiError && e.status === 404)) throw e;
  }
}

// The workers' Cloud Firewall on DigitalOcean (/v2/firewalls): found by name, created when
// missing, replaced (PUT, the full representation) when its rules or tags drifted, deleted by id.
// Tags a firewall names must exist first ("Tag names must exist in order to be referenced"), so
// they are created (POST /v2/tags is idempotent) before the firewall and before any droplet: a new
// worker is covered from its first boot. A create whose outcome is unknown is never repeated
// blindly: the list by name decides, as for droplets.
import type { FirewallDesign, FirewallProtocol, FirewallRule } from '../../spec/firewall-rules.ts';
import { describeRule } from '../../spec/firewall-rules.ts';
import type { DigitalOceanClient } from './api-client.ts';
import { DigitalOceanApiError, DigitalOceanUncertainError } from './errors.ts';

interface ApiRuleTarget {
  addresses?: string[] | null;
  tags?: string[] | null;
  droplet_ids?: number[] | null;
  load_balancer_uids?: string[] | null;
  kubernetes_ids?: string[] | null;
}

interface ApiRule {
  protocol: FirewallProtocol;
  ports: string;
  sources?: ApiRuleTarget;
  destinations?: ApiRuleTarget;
}

/** The firewall fields kubewright reads. */
export interface Firewall {
  id: string;
  name: string;
  status?: string;
  created_at?: string;
  tags?: string[] | null;
  droplet_ids?: number[] | null;
  inbound_rules?: ApiRule[] | null;
  outbound_rules?: ApiRule[] | null;
}

export interface FirewallPlan {
  name: string;
  action: 'create' | 'update' | 'unchanged';
  /** the existing firewall's id (update, unchanged) */
  id?: string | undefined;
  /** `+ rule` / `- rule` lines for an update, every rule for a create */
  changes: string[];
}

export interface FirewallOutcome {
  name: string;
  id: string;
  action: 'created' | 'updated' | 'unchanged';
}

function target(r: FirewallRule): ApiRuleTarget {
  return {
    ...(r.addresses.length ? { addresses: r.addresses } : {}),
    ...(r.tags.length ? { tags: r.tags } : {}),
    ...(r.loadBalancers?.length ? { load_balancer_uids: r.loadBalancers } : {}),
  };
}

// the API wants a ports string on every rule; icmp has no ports and reads back as "0"
const apiPorts = (r: FirewallRule): string => (r.protocol === 'icmp' ? '0' : r.ports);

/** The POST/PUT body for a design (no read-only fields). */
export function firewallRequest(d: FirewallDesign): Record<string, unknown> {
  return {
    name: d.name,
    tags: d.tags,
    inbound_rules: d.inbound.map((r) => ({ protocol: r.protocol, ports: apiPorts(r), sources: target(r) })),
    outbound_rules: d.outbound.map((r) => ({ protocol: r.protocol, ports: apiPorts(r), destinations: target(r) })),
  };
}

/** A rule as comparable text: "all", "0" and "1-65535" mean the same ports; lists are sets. */
function canonical(direction: 'in' | 'out', r: { protocol: FirewallProtocol; ports: string }, t: ApiRuleTarget | undefined): string {
  const ports = r.protocol === 'icmp' ? '' : r.ports === '0' || r.ports === '1-65535' ? 'all' : r.ports;
  const sorted = (xs: readonly (string | number)[] | null | undefined): string[] => [...(xs ?? [])].map(String).sort();
  return describeRule(direction, {
    protocol: r.protocol,
    ports,
    addresses: [...sorted(t?.addresses), ...sorted(t?.droplet_ids).map((id) => `droplet:${id}`), ...sorted(t?.kubernetes_ids).map((id) => `k8s:${id}`)],
    tags: sorted(t?.tags),
    loadBalancers: sorted(t?.load_balancer_uids),
  });
}

function rulesOf(f: Pick<Firewall, 'inbound_rules' | 'outbound_rules' | 'tags' | 'droplet_ids'>): string[] {
  return [
    ...(f.inbound_rules ?? []).map((r) => canonical('in', r, r.sources)),
    ...(f.outbound_rules ?? []).map((r) => canonical('out', r, r.destinations)),
    `applies to ${[...(f.tags ?? []).map((t) => `tag:${t}`).sort(), ...(f.droplet_ids ?? []).map((id) => `droplet:${id}`).sort()].join(', ') || 'nothing'}`,
  ].sort();
}

function designRules(d: FirewallDesign): string[] {
  const body = firewallRequest(d) as Pick<Firewall, 'inbound_rules' | 'outbound_rules' | 'tags'>;
  return rulesOf(body);
}

/** What differs between the design and an existing firewall: `- have` and `+ want` lines. */
export function firewallChanges(d: FirewallDesign, existing: Firewall | undefined): string[] {
  const want = designRules(d);
  if (!existing) return want.map((l) => `+ ${l}`);
  const have = rulesOf(existing);
  return [...have.filter((l) => !want.includes(l)).map((l) => `- ${l}`), ...want.filter((l) => !have.includes(l)).map((l) => `+ ${l}`)];
}

/** Every firewall named `name` (names are not unique on DigitalOcean), oldest first. */
export async function findFirewalls(client: DigitalOceanClient, name: string): Promise<Firewall[]> {
  const all = await client.listAll<Firewall>('/v2/firewalls', 'firewalls');
  return all.filter((f) => f.name === name).sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.id.localeCompare(b.id));
}

export async function planFirewall(client: DigitalOceanClient, d: FirewallDesign): Promise<FirewallPlan> {
  const existing = (await findFirewalls(client, d.name))[0];
  const changes = firewallChanges(d, existing);
  if (!existing) return { name: d.name, action: 'create', changes };
  return { name: d.name, action: changes.length === 0 ? 'unchanged' : 'update', id: existing.id, changes };
}

/**
 * Creates each tag (POST /v2/tags is idempotent) unless `created` says this run made it already;
 * a tag create is harmless to repeat, so an unknown outcome is tried once more.
 */
export async function ensureTags(client: DigitalOceanClient, tags: Iterable<string>, created: Set<string> = new Set()): Promise<void> {
  for (const name of new Set(tags)) {
    if (created.has(name)) continue;
    try {
      await client.request('POST', '/v2/tags', { body: { name } });
    } catch (e) {
      if (!(e instanceof DigitalOceanUncertainError)) throw e;
      await client.request('POST', '/v2/tags', { body: { name } });
    }
    created.add(name);
  }
}

/**
 * Creates the firewall or brings the existing one (the oldest of that name) to the design.
 * `tagsCreated` carries the tags this run has created already, so several firewalls naming one
 * tag create it once.
 */
export async function ensureFirewall(client: DigitalOceanClient, d: FirewallDesign, tagsCreated: Set<string> = new Set()): Promise<FirewallOutcome> {
  const existing = (await findFirewalls(client, d.name))[0];
  if (existing && firewallChanges(d, existing).length === 0) return { name: d.name, id: existing.id, action: 'unchanged' };
  // only when the firewall is sent: an unchanged run makes no POST at all
  await ensureTags(client, [...d.tags, ...d.inbound.flatMap((r) => r.tags)], tagsCreated);
  if (existing) {
    await client.request('PUT', `/v2/firewalls/${existing.id}`, { body: firewallRequest(d) });
    return { name: d.name, id: existing.id, action: 'updated' };
  }
  try {
    const { body } = await client.request<{ firewall?: Firewall }>('POST', '/v2/firewalls', { body: firewallRequest(d) });
    if (body.firewall?.id) return { name: d.name, id: body.firewall.id, action: 'created' };
  } catch (e) {
    if (!(e instanceof DigitalOceanUncertainError)) throw e;
  }
  // the outcome is unknown (or the answer had no id): the list decides; a second create only if it is really missing
  const after = (await findFirewalls(client, d.name))[0];
  if (after) return { name: d.name, id: after.id, action: 'created' };
  const { body } = await client.request<{ firewall?: Firewall }>('POST', '/v2/firewalls', { body: firewallRequest(d) });
  if (!body.firewall?.id) throw new DigitalOceanApiError('digitalocean: POST /v2/firewalls: answer has no firewall id', { status: 202 });
  return { name: d.name, id: body.firewall.id, action: 'created' };
}

/** DELETE by id; a firewall that is already gone counts as deleted. */
export async function deleteFirewall(client: DigitalOceanClient, id: string): Promise<void> {
  try {
    await client.request('DELETE', `/v2/firewalls/${id}`);
  } catch (e) {
    if (!(e instanceof DigitalOceanApiError && e.status === 404)) throw e;
  }
}

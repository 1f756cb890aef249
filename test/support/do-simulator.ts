// TEST DOUBLE — a stateful DigitalOcean API simulator on loopback (test code, not a mock of our
// client): keeps droplets, tags, SSH keys and Cloud Firewalls (with a model of which inbound
// traffic they let through), pages lists (links.pages.next as full URLs),
// enforces the per-token rate limit with DigitalOcean's headers and 429 body, activates droplets
// after a delay on its clock, and injects faults on request: 429 bursts, 500s, connection
// resets, slow responses and lost create responses. Its answers follow do-api-v2.yaml closely
// enough that Prism (--errors) in front of it validates every one of them.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** `off-contract`: a 200 list without the required `meta` (proves Prism checks responses) */
export type FaultKind = '429' | '500' | 'reset' | 'slow' | 'lose-create' | 'off-contract';

export interface Fault {
  kind: FaultKind;
  /** how many matching requests it hits (default 1) */
  count?: number;
  method?: string;
  /** exact path, e.g. /v2/droplets */
  path?: string;
  /** for slow / lose-create: real milliseconds before answering (lose-create without delay resets the socket) */
  delayMs?: number;
  /** for 429: no retry-after, only ratelimit-remaining 0 and ratelimit-reset this many seconds ahead (the hourly limit) */
  resetInS?: number;
}

export interface SimulatorOptions {
  /** the accepted bearer token with read and write scope */
  token: string;
  /** bearer tokens with read scope only (like etcd-lookup's token on nodes): GETs pass, any write is 403 */
  readOnlyTokens?: string[];
  /** simulated time (ms since epoch); share it with the client's fake clock */
  now?: () => number;
  /** a new droplet turns active this long after creation (simulated ms; default 20 s) */
  activateAfterMs?: number;
  /** requests per minute per token (DigitalOcean: 250) */
  limitPerMinute?: number;
  /** requests per hour per token (DigitalOcean: 5,000) */
  limitPerHour?: number;
  /** GET /v2/account/keys per minute (DigitalOcean: 10) */
  keysLimitPerMinute?: number;
  /** the largest page served, to exercise pagination with few droplets (DigitalOcean: 200) */
  maxPageSize?: number;
  /** a new droplet shows up in lists only this long after its create (simulated ms; eventual consistency) */
  listLagMs?: number;
  /** a droplet's IPv4 addresses once active (default: private 10.135.x.y, public 198.18.x.y from its id); e2e tests map them to loopback */
  addresses?: (d: { id: number; name: string; tags: readonly string[] }) => { publicV4: string; privateV4: string };
  /** serve HTTPS with this key and certificate (PEM) instead of plain HTTP */
  tls?: { key: string; cert: string };
  /** the IPv4 address the n-th load balancer gets (default 192.0.2.(10+n)); e2e tests give a loopback address where they serve the endpoint */
  loadBalancerIp?: (n: number) => string;
  /** droplets the account may have at once (GET /v2/account droplet_limit; a create past it is a 422); default 10,000 */
  dropletLimit?: number;
  /** false: the token was made with custom scopes that lack account:read, so GET /v2/account is a 403; default true */
  accountRead?: boolean;
}

interface SimDroplet {
  id: number;
  name: string;
  tags: string[];
  region: string;
  size: string;
  image: string | number;
  vpcUuid: string;
  userData: string | undefined;
  sshKeys: (string | number)[];
  createdAt: number;
}

interface SimRuleTarget {
  addresses?: string[];
  tags?: string[];
  droplet_ids?: number[];
  load_balancer_uids?: string[];
}

interface SimRule {
  protocol: 'tcp' | 'udp' | 'icmp';
  ports: string;
  sources?: SimRuleTarget;
  destinations?: SimRuleTarget;
}

interface SimFirewall {
  id: string;
  name: string;
  tags: string[];
  dropletIds: number[];
  inbound: SimRule[];
  outbound: SimRule[];
  createdAt: number;
}

interface SimKey {
  id: number;
  fingerprint: string;
  public_key: string;
  name: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number | 'reset';
  fault?: FaultKind;
  /** sent with one of readOnlyTokens */
  readOnly?: boolean;
  /** simulated time the request arrived */
  at: number;
}

const knownRegions = ['ams3', 'blr1', 'fra1', 'lon1', 'nyc1', 'nyc3', 'sfo3', 'sgp1', 'syd1', 'tor1'];
const defaultVpc = '760e09ef-dc84-11e8-981e-3cfdfeaae000';

function defaultAddresses(d: { id: number }): { publicV4: string; privateV4: string } {
  const n = d.id - 3164444 + 2;
  const octets = `${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  return { privateV4: `10.135.${octets}`, publicV4: `198.18.${octets}` };
}

interface SimLoadBalancer {
  id: string;
  name: string;
  region: string;
  tag: string;
  createdAt: number;
  /** reads by id so far: the first one finds it active */
  reads: number;
  ip: string;
  forwardingRules: unknown[];
  healthCheck: unknown;
  vpcUuid: string;
  /** the balancer's own firewall (allow/deny lists), as sent */
  firewall: { allow: string[]; deny: string[] } | undefined;
}

export class DigitalOceanSimulator {
  opts: Required<Omit<SimulatorOptions, 'now' | 'tls'>> & { now: () => number };
  private readonly tls: { key: string; cert: string } | undefined;
  readonly requests: RecordedRequest[] = [];
  private readonly droplets = new Map<number, SimDroplet>();
  private readonly keys: SimKey[] = [];
  private readonly firewalls = new Map<string, SimFirewall>();
  private readonly loadBalancers = new Map<string, SimLoadBalancer>();
  private readonly tags = new Set<string>();
  private faults: (Fault & { left: number })[] = [];
  private nextId = 3164444;
  private nextActionId = 7515;
  private readonly minuteWindow: number[] = [];
  private readonly hourWindow: number[] = [];
  private readonly keysWindow: number[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';
  /** called as each request arrives (before it is answered), e.g. to interrupt a client at the k-th create */
  onRequest: ((r: RecordedRequest) => void) | undefined;

  constructor(opts: SimulatorOptions) {
    this.opts = {
      token: opts.token,
      readOnlyTokens: opts.readOnlyTokens ?? [],
      now: opts.now ?? (() => Date.now()),
      activateAfterMs: opts.activateAfterMs ?? 20_000,
      limitPerMinute: opts.limitPerMinute ?? 250,
      limitPerHour: opts.limitPerHour ?? 5_000,
      keysLimitPerMinute: opts.keysLimitPerMinute ?? 10,
      maxPageSize: opts.maxPageSize ?? 200,
      listLagMs: opts.listLagMs ?? 0,
      addresses: opts.addresses ?? defaultAddresses,
      dropletLimit: opts.dropletLimit ?? 10_000,
      accountRead: opts.accountRead ?? true,
      loadBalancerIp: opts.loadBalancerIp ?? ((n) => `192.0.2.${10 + n}`),
    };
    this.tls = opts.tls;
  }

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = this.tls ? createHttpsServer({ key: this.tls.key, cert: this.tls.cert }, handler) : createServer(handler);
    server.keepAliveTimeout = 1000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  inject(...faults: Fault[]): void {
    this.faults.push(...faults.map((f) => ({ ...f, left: f.count ?? 1 })));
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Back to an empty account (droplets, keys, faults, counts, rate windows); options may change. */
  reset(opts: Partial<Omit<SimulatorOptions, 'token' | 'now' | 'tls'>> = {}): void {
    this.droplets.clear();
    this.keys.length = 0;
    this.firewalls.clear();
    this.loadBalancers.clear();
    this.tags.clear();
    this.faults = [];
    this.requests.length = 0;
    this.minuteWindow.length = 0;
    this.hourWindow.length = 0;
    this.keysWindow.length = 0;
    Object.assign(this.opts, Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)));
  }

  /** Adds droplets as if made earlier (e.g. etcd members, or someone else's duplicate). */
  seed(d: { name: string; tags: string[]; active?: boolean }): number {
    const id = this.nextId++;
    for (const t of d.tags) this.tags.add(t);
    this.droplets.set(id, {
      id, name: d.name, tags: d.tags, region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', vpcUuid: defaultVpc,
      userData: undefined, sshKeys: [], createdAt: d.active === false ? this.opts.now() : this.opts.now() - this.opts.activateAfterMs,
    });
    return id;
  }

  /**
   * Counts `count` requests someone else made with the same token, evenly over the `overMs` before
   * now (the oldest first): they fill the hourly window (and the minute window for those in the last minute).
   */
  preload(count: number, overMs: number): void {
    const now = this.opts.now();
    for (let i = 0; i < count; i++) {
      const at = now - overMs + Math.floor((i * overMs) / count);
      this.hourWindow.push(at);
      if (at > now - 60_000) this.minuteWindow.push(at);
    }
  }

  /** The most requests (any status, any token) that arrived in one sliding window of `windowMs`. */
  peakInWindow(windowMs: number, filter: (r: RecordedRequest) => boolean = () => true): number {
    const times = this.requests.filter(filter).map((r) => r.at).sort((a, b) => a - b);
    let peak = 0;
    for (let lo = 0, hi = 0; hi < times.length; hi++) {
      while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }
    return peak;
  }

  remove(id: number): void {
    this.droplets.delete(id);
  }

  seedKey(k: { fingerprint: string; public_key: string; name: string }): void {
    this.keys.push({ id: 289794 + this.keys.length, ...k });
  }

  firewallList(): { id: string; name: string; tags: string[]; inbound: SimRule[]; outbound: SimRule[] }[] {
    return [...this.firewalls.values()].map((f) => ({ id: f.id, name: f.name, tags: f.tags, inbound: f.inbound, outbound: f.outbound }));
  }

  /** Changes a firewall behind kubewright's back (someone edits it in the console). */
  editFirewall(id: string, edit: (f: { tags: string[]; inbound: SimRule[]; outbound: SimRule[] }) => void): void {
    const f = this.firewalls.get(id);
    if (!f) throw new Error(`no firewall ${id}`);
    edit(f);
  }

  /**
   * Cloud Firewall semantics (TEST DOUBLE of DigitalOcean's enforcement): would inbound traffic to
   * this droplet on protocol/port, from an address or from a droplet with these tags, pass? A
   * droplet with no firewall takes everything; with firewalls, a packet needs one allowing rule.
   */
  allowsInbound(dropletId: number, protocol: 'tcp' | 'udp', port: number, from: { address?: string; tags?: string[]; loadBalancer?: string }): boolean {
    const d = this.droplets.get(dropletId);
    if (!d) throw new Error(`no droplet ${dropletId}`);
    const covering = [...this.firewalls.values()].filter((f) => f.dropletIds.includes(d.id) || f.tags.some((t) => d.tags.includes(t)));
    if (covering.length === 0) return true;
    const inPorts = (ports: string): boolean => {
      if (ports === '0' || ports === 'all') return true;
      const [a, b] = ports.split('-').map(Number);
      return b === undefined ? port === a : port >= (a ?? 0) && port <= b;
    };
    const fromAddress = (cidr: string): boolean => {
      if (!from.address) return false;
      if (cidr === '0.0.0.0/0') return from.address.includes('.');
      if (cidr === '::/0') return from.address.includes(':');
      const [base, prefix] = cidr.split('/');
      const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
      if (!base?.includes('.') || !from.address.includes('.')) return base === from.address;
      const bits = prefix === undefined ? 32 : Number(prefix);
      const size = 2 ** (32 - bits);
      return Math.floor(toInt(from.address) / size) === Math.floor(toInt(base) / size);
    };
    return covering.some((f) =>
      f.inbound.some((r) => r.protocol === protocol && inPorts(r.ports) && ((r.sources?.addresses ?? []).some(fromAddress) || (r.sources?.tags ?? []).some((t) => from.tags?.includes(t)) || (from.loadBalancer !== undefined && (r.sources?.load_balancer_uids ?? []).includes(from.loadBalancer)))),
    );
  }

  dropletNames(): string[] {
    return [...this.droplets.values()].map((d) => d.name).sort();
  }

  dropletsByName(name: string): { id: number; userData: string | undefined; tags: string[]; sshKeys: (string | number)[] }[] {
    return [...this.droplets.values()].filter((d) => d.name === name);
  }

  accountKeys(): readonly SimKey[] {
    return this.keys;
  }

  /** Counts per `METHOD /path`, and the totals the tests assert. */
  counts(): { total: number; creates: number; posts: number; lists: number; byRoute: Record<string, number> } {
    const byRoute: Record<string, number> = {};
    for (const r of this.requests) {
      const route = `${r.method} ${r.path.replace(/\/\d+$/, '/{id}')}`;
      byRoute[route] = (byRoute[route] ?? 0) + 1;
    }
    return {
      total: this.requests.length,
      creates: this.requests.filter((r) => r.method === 'POST' && r.path === '/v2/droplets').length,
      posts: this.requests.filter((r) => r.method === 'POST').length,
      lists: this.requests.filter((r) => r.method === 'GET' && r.path === '/v2/droplets').length,
      byRoute,
    };
  }

  resetCounts(): void {
    this.requests.length = 0;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const f = this.faults.find((x) => x.left > 0 && (!x.method || x.method === method) && (!x.path || x.path === path));
    if (!f) return undefined;
    f.left--;
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const record: RecordedRequest = { method, path, query: Object.fromEntries(url.searchParams), body, status: 0, at: this.opts.now() };
    this.requests.push(record);
    this.onRequest?.(record);

    const fault = this.takeFault(method, path);
    if (fault) record.fault = fault.kind;
    if (fault?.kind === 'reset') {
      record.status = 'reset';
      req.socket.destroy();
      return;
    }

    const now = this.opts.now();
    const send = (status: number, payload?: unknown, extra: Record<string, string> = {}): void => {
      record.status = status;
      const headers = { ...this.rateHeaders(now), ...extra };
      const out = (): void => {
        if (payload === undefined) res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end();
        else res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(payload));
      };
      if (fault?.kind === 'slow' || (fault?.kind === 'lose-create' && fault.delayMs !== undefined)) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!res.destroyed) out();
        }, fault.delayMs ?? 1000);
        this.timers.add(t);
      } else if (fault?.kind === 'lose-create') {
        record.status = 'reset';
        req.socket.destroy();
      } else {
        out();
      }
    };
    const error = (status: number, id: string, message: string, extra: Record<string, string> = {}): void =>
      send(status, { id, message, request_id: randomUUID() }, extra);

    const readOnly = this.opts.readOnlyTokens.some((t) => req.headers.authorization === `Bearer ${t}`);
    if (readOnly) record.readOnly = true;
    if (req.headers.authorization !== `Bearer ${this.opts.token}` && !readOnly) return error(401, 'unauthorized', 'Unable to authenticate you.');
    if (readOnly && method !== 'GET') return error(403, 'forbidden', 'You do not have access for the attempted action.');
    if (fault?.kind === '429') {
      if (fault.resetInS !== undefined) {
        return error(429, 'too_many_requests', 'API rate limit exceeded.', { 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.ceil(now / 1000) + fault.resetInS) });
      }
      return error(429, 'too_many_requests', 'API rate limit exceeded.', { 'retry-after': '1', 'ratelimit-remaining': '0' });
    }
    if (fault?.kind === '500') return error(500, 'server_error', 'Unexpected server-side error');
    if (fault?.kind === 'off-contract') return send(200, { droplets: [{ id: 'not-a-number' }] });

    // rate limit: sliding windows of one minute and one hour; 429 does not count
    this.expire(now);
    if (this.minuteWindow.length >= this.opts.limitPerMinute || this.hourWindow.length >= this.opts.limitPerHour) {
      const oldest = this.minuteWindow.length >= this.opts.limitPerMinute ? (this.minuteWindow[0] ?? now) + 60_000 : (this.hourWindow[0] ?? now) + 3_600_000;
      return error(429, 'too_many_requests', 'API rate limit exceeded.', { 'retry-after': String(Math.max(1, Math.ceil((oldest - now) / 1000))) });
    }
    if (method === 'GET' && path === '/v2/account/keys') {
      if (this.keysWindow.length >= this.opts.keysLimitPerMinute) {
        return error(429, 'too_many_requests', 'API rate limit exceeded for /v2/account/keys.', {
          'retry-after': String(Math.max(1, Math.ceil(((this.keysWindow[0] ?? now) + 60_000 - now) / 1000))),
        });
      }
      this.keysWindow.push(now);
    }
    this.minuteWindow.push(now);
    this.hourWindow.push(now);

    if (path === '/v2/account' && method === 'GET') {
      if (!this.opts.accountRead) return error(403, 'Forbidden', 'You are not authorized to perform this operation');
      return send(200, {
        account: {
          droplet_limit: this.opts.dropletLimit, floating_ip_limit: 3, email: 'sammy@example.com', uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
          email_verified: true, status: 'active', status_message: '',
        },
      });
    }
    if (path === '/v2/droplets' && method === 'GET') return this.listDroplets(url, send, error);
    if (path === '/v2/droplets' && method === 'POST') return this.createDroplets(body, send, error);
    if (path === '/v2/droplets' && method === 'DELETE') {
      const tag = url.searchParams.get('tag_name');
      if (!tag) return error(400, 'bad_request', 'tag_name is required');
      for (const d of [...this.droplets.values()]) if (d.tags.includes(tag)) this.droplets.delete(d.id);
      return send(204);
    }
    const one = /^\/v2\/droplets\/(\d+)$/.exec(path);
    if (one && method === 'DELETE') {
      if (!this.droplets.delete(Number(one[1]))) return error(404, 'not_found', 'The resource you were accessing could not be found.');
      return send(204);
    }
    if (path === '/v2/tags' && method === 'POST') {
      const b = body as { name?: unknown } | undefined;
      if (typeof b?.name !== 'string' || !/^[a-zA-Z0-9_\-:]+$/.test(b.name)) return error(400, 'bad_request', 'name is invalid');
      this.tags.add(b.name);
      const count = [...this.droplets.values()].filter((d) => d.tags.includes(b.name as string)).length;
      // creating a tag that exists answers 201 with that tag (DigitalOcean: idempotent)
      return send(201, { tag: { name: b.name, resources: { count, droplets: { count }, images: { count: 0 }, volumes: { count: 0 }, volume_snapshots: { count: 0 }, databases: { count: 0 } } } });
    }
    if (path === '/v2/firewalls' && method === 'GET') {
      return this.page(url, 'firewalls', [...this.firewalls.values()].sort((a, b) => a.createdAt - b.createdAt).map((f) => this.renderFirewall(f)), send);
    }
    if (path === '/v2/firewalls' && method === 'POST') {
      const bad = this.firewallProblem(body);
      if (bad) return error(422, 'unprocessable_entity', bad);
      const f = this.firewallFrom(body as Record<string, unknown>, randomUUID());
      this.firewalls.set(f.id, f);
      return send(202, { firewall: this.renderFirewall(f) });
    }
    const fw = /^\/v2\/firewalls\/([0-9a-f-]{36})$/.exec(path);
    if (fw) {
      const existing = this.firewalls.get(fw[1] ?? '');
      if (!existing) return error(404, 'not_found', 'The resource you were accessing could not be found.');
      if (method === 'GET') return send(200, { firewall: this.renderFirewall(existing) });
      if (method === 'DELETE') {
        this.firewalls.delete(existing.id);
        return send(204);
      }
      if (method === 'PUT') {
        const bad = this.firewallProblem(body);
        if (bad) return error(422, 'unprocessable_entity', bad);
        // PUT replaces the whole firewall: attributes not sent are reset
        const f = { ...this.firewallFrom(body as Record<string, unknown>, existing.id), createdAt: existing.createdAt };
        this.firewalls.set(f.id, f);
        return send(200, { firewall: this.renderFirewall(f) });
      }
    }
    if (path === '/v2/load_balancers' && method === 'GET') {
      return this.page(url, 'load_balancers', [...this.loadBalancers.values()].sort((a, b) => a.createdAt - b.createdAt).map((l) => this.renderLoadBalancer(l)), send);
    }
    if (path === '/v2/load_balancers' && method === 'POST') {
      const b = (body ?? {}) as Record<string, unknown>;
      // DigitalOcean: a balancer by tag needs the tag to exist, a region, and at least one forwarding rule
      if (typeof b['tag'] !== 'string' || !this.tags.has(b['tag'])) return error(422, 'unprocessable_entity', 'tag must name an existing tag');
      if (typeof b['region'] !== 'string' || typeof b['name'] !== 'string') return error(422, 'unprocessable_entity', 'name and region are required');
      if (!Array.isArray(b['forwarding_rules']) || b['forwarding_rules'].length === 0) return error(422, 'unprocessable_entity', 'forwarding_rules must not be empty');
      const n = this.loadBalancers.size + 1;
      const l: SimLoadBalancer = {
        id: randomUUID(), name: b['name'], region: b['region'], tag: b['tag'], createdAt: this.opts.now(), reads: 0,
        ip: this.opts.loadBalancerIp(n), forwardingRules: b['forwarding_rules'], healthCheck: b['health_check'] ?? {}, vpcUuid: typeof b['vpc_uuid'] === 'string' ? b['vpc_uuid'] : defaultVpc,
        firewall: b['firewall'] === undefined ? undefined : { allow: [], deny: [], ...(b['firewall'] as { allow?: string[]; deny?: string[] }) },
      };
      this.loadBalancers.set(l.id, l);
      return send(202, { load_balancer: this.renderLoadBalancer(l) });
    }
    const lb = /^\/v2\/load_balancers\/([0-9a-f-]{36})$/.exec(path);
    if (lb && (method === 'GET' || method === 'DELETE')) {
      const l = this.loadBalancers.get(lb[1] ?? '');
      if (!l) return error(404, 'not_found', 'The resource you were accessing could not be found.');
      if (method === 'DELETE') {
        this.loadBalancers.delete(l.id);
        return send(204);
      }
      l.reads++;
      return send(200, { load_balancer: this.renderLoadBalancer(l) });
    }
    if (path === '/v2/account/keys' && method === 'GET') return this.page(url, 'ssh_keys', this.keys, send);
    if (path === '/v2/account/keys' && method === 'POST') {
      const b = body as { name?: unknown; public_key?: unknown } | undefined;
      if (typeof b?.name !== 'string' || typeof b.public_key !== 'string') return error(422, 'unprocessable_entity', 'name and public_key are required');
      const { sshKeyFingerprint } = await import('../../src/providers/digitalocean/ssh-keys.ts');
      const key = { id: 289794 + this.keys.length, fingerprint: sshKeyFingerprint(b.public_key), public_key: b.public_key, name: b.name };
      this.keys.push(key);
      return send(201, { ssh_key: key });
    }
    return error(404, 'not_found', 'The resource you were accessing could not be found.');
  }

  /** Load balancers as the account holds them (name, tag, rules). */
  loadBalancerList(): { id: string; name: string; tag: string; forwardingRules: unknown; healthCheck: unknown; firewall: { allow: string[]; deny: string[] } | undefined }[] {
    return [...this.loadBalancers.values()].map((l) => ({ id: l.id, name: l.name, tag: l.tag, forwardingRules: l.forwardingRules, healthCheck: l.healthCheck, firewall: l.firewall }));
  }

  /**
   * The balancer's own firewall (TEST DOUBLE of DigitalOcean's enforcement): does it let a client
   * at this IPv4 address in? No allow list admits everyone; entries are `ip:a.b.c.d` or `cidr:a.b.c.d/n`.
   */
  balancerAdmits(id: string, address: string): boolean {
    const l = this.loadBalancers.get(id);
    if (!l) throw new Error(`no load balancer ${id}`);
    const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const inside = (entry: string): boolean => {
      const [kind, value = ''] = entry.split(':', 2) as [string, string | undefined];
      if (kind === 'ip') return value === address;
      const [base = '', bits = '32'] = value.split('/');
      if (!base.includes('.')) return false;
      const size = 2 ** (32 - Number(bits));
      return Math.floor(toInt(address) / size) === Math.floor(toInt(base) / size);
    };
    if ((l.firewall?.deny ?? []).some(inside)) return false;
    const allow = l.firewall?.allow ?? [];
    return allow.length === 0 || allow.some(inside);
  }

  /** A balancer is `new` without an address until its first read by id, then `active` with its IP (as DigitalOcean provisions one). */
  private renderLoadBalancer(l: SimLoadBalancer): Record<string, unknown> {
    const active = l.reads > 0;
    const droplet_ids = [...this.droplets.values()].filter((d) => d.tags.includes(l.tag)).map((d) => d.id);
    return {
      id: l.id, name: l.name, ip: active ? l.ip : '', status: active ? 'active' : 'new', created_at: new Date(l.createdAt).toISOString(),
      forwarding_rules: l.forwardingRules, health_check: l.healthCheck, tag: l.tag, droplet_ids, vpc_uuid: l.vpcUuid,
      ...(l.firewall ? { firewall: l.firewall } : {}),
      region: { name: 'Frankfurt 1', slug: l.region, features: ['load_balancers'], available: true, sizes: ['s-1vcpu-1gb'] },
    };
  }

  /** What DigitalOcean would refuse in a firewall body: tags that do not exist, a bad name, no rules. */
  private firewallProblem(body: unknown): string | undefined {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b['name'] !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9.-]+$/.test(b['name'])) return 'name is invalid';
    const rules = [...((b['inbound_rules'] as SimRule[] | undefined) ?? []), ...((b['outbound_rules'] as SimRule[] | undefined) ?? [])];
    if (rules.length === 0) return 'must have at least one rule';
    const referenced = [...((b['tags'] as string[] | undefined) ?? []), ...rules.flatMap((r) => [...(r.sources?.tags ?? []), ...(r.destinations?.tags ?? [])])];
    const missing = referenced.filter((t) => !this.tags.has(t));
    // "Tag names must exist in order to be referenced in a request."
    if (missing.length > 0) return `tag ${missing[0]} not found`;
    const balancers = rules.flatMap((r) => [...(r.sources?.load_balancer_uids ?? []), ...(r.destinations?.load_balancer_uids ?? [])]);
    const unknown = balancers.find((id) => !this.loadBalancers.has(id));
    return unknown ? `load balancer ${unknown} not found` : undefined;
  }

  private firewallFrom(b: Record<string, unknown>, id: string): SimFirewall {
    // DigitalOcean reads "all" ports (and any icmp ports) back as "0"
    const norm = (r: SimRule): SimRule => ({ ...r, ports: r.protocol === 'icmp' || r.ports === 'all' ? '0' : r.ports });
    return {
      id,
      name: b['name'] as string,
      tags: (b['tags'] as string[] | undefined) ?? [],
      dropletIds: (b['droplet_ids'] as number[] | undefined) ?? [],
      inbound: ((b['inbound_rules'] as SimRule[] | undefined) ?? []).map(norm),
      outbound: ((b['outbound_rules'] as SimRule[] | undefined) ?? []).map(norm),
      createdAt: this.opts.now(),
    };
  }

  private renderFirewall(f: SimFirewall): Record<string, unknown> {
    return {
      id: f.id,
      name: f.name,
      status: 'succeeded',
      created_at: new Date(f.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      pending_changes: [],
      droplet_ids: f.dropletIds,
      tags: f.tags,
      inbound_rules: f.inbound,
      outbound_rules: f.outbound,
    };
  }

  private expire(now: number): void {
    while (this.minuteWindow.length > 0 && (this.minuteWindow[0] ?? 0) <= now - 60_000) this.minuteWindow.shift();
    while (this.hourWindow.length > 0 && (this.hourWindow[0] ?? 0) <= now - 3_600_000) this.hourWindow.shift();
    while (this.keysWindow.length > 0 && (this.keysWindow[0] ?? 0) <= now - 60_000) this.keysWindow.shift();
  }

  private rateHeaders(now: number): Record<string, string> {
    this.expire(now);
    const remaining = Math.max(0, this.opts.limitPerHour - this.hourWindow.length);
    const reset = Math.ceil(((this.hourWindow[0] ?? now) + 3_600_000) / 1000);
    return { 'ratelimit-limit': String(this.opts.limitPerHour), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(reset) };
  }

  private listDroplets(url: URL, send: (s: number, p?: unknown) => void, error: (s: number, id: string, m: string) => void): void {
    const tag = url.searchParams.get('tag_name');
    const name = url.searchParams.get('name');
    if (tag && name) return error(422, 'unprocessable_entity', 'tag_name can not be combined with name');
    const list = [...this.droplets.values()]
      .filter((d) => this.opts.now() - d.createdAt >= this.opts.listLagMs)
      .filter((d) => (!tag || d.tags.includes(tag)) && (!name || d.name.toLowerCase() === name.toLowerCase()))
      .sort((a, b) => a.id - b.id)
      .map((d) => this.render(d));
    this.page(url, 'droplets', list, send);
  }

  private page(url: URL, key: string, all: readonly unknown[], send: (s: number, p?: unknown) => void): void {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 20) || 20, this.opts.maxPageSize);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number): string => {
      const u = new URL(url.pathname, this.url);
      for (const [k, v] of url.searchParams) if (k !== 'page') u.searchParams.set(k, v);
      u.searchParams.set('page', String(p));
      return u.href;
    };
    const pages: Record<string, string> = {};
    if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
    if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
    send(200, { [key]: all.slice((page - 1) * perPage, page * perPage), links: { pages }, meta: { total: all.length } });
  }

  private createDroplets(body: unknown, send: (s: number, p?: unknown) => void, error: (s: number, id: string, m: string) => void): void {
    const b = (body ?? {}) as Record<string, unknown>;
    const names = Array.isArray(b['names']) ? (b['names'] as unknown[]) : typeof b['name'] === 'string' ? [b['name']] : [];
    // "Up to ten Droplets may be created this way at a time."
    if (names.length === 0 || names.length > 10) return error(422, 'unprocessable_entity', `names must list 1 to 10 names (got ${names.length})`);
    if (typeof b['size'] !== 'string') return error(422, 'unprocessable_entity', 'size is required');
    if (typeof b['region'] === 'string' && !knownRegions.includes(b['region'])) {
      return error(422, 'unprocessable_entity', 'Region is not available');
    }
    if (typeof b['user_data'] === 'string' && Buffer.byteLength(b['user_data']) > 64 * 1024) {
      return error(422, 'unprocessable_entity', 'user_data is larger than 64 KiB');
    }
    if (this.droplets.size + names.length > this.opts.dropletLimit) {
      return error(422, 'unprocessable_entity', `creating this/these droplet(s) will exceed your droplet limit (${this.opts.dropletLimit})`);
    }
    for (const t of Array.isArray(b['tags']) ? (b['tags'] as string[]) : []) this.tags.add(t);
    const created = names.map((n) => {
      const d: SimDroplet = {
        id: this.nextId++,
        name: String(n),
        tags: Array.isArray(b['tags']) ? (b['tags'] as string[]) : [],
        region: typeof b['region'] === 'string' ? b['region'] : 'nyc3',
        size: b['size'] as string,
        image: (b['image'] as string | number | undefined) ?? 'ubuntu-24-04-x64',
        vpcUuid: typeof b['vpc_uuid'] === 'string' ? b['vpc_uuid'] : defaultVpc,
        userData: typeof b['user_data'] === 'string' ? b['user_data'] : undefined,
        sshKeys: Array.isArray(b['ssh_keys']) ? (b['ssh_keys'] as (string | number)[]) : [],
        createdAt: this.opts.now(),
      };
      this.droplets.set(d.id, d);
      return d;
    });
    const actions = created.map(() => {
      const id = this.nextActionId++;
      return { id, rel: 'create', href: `${this.url}/v2/actions/${id}` };
    });
    if (created.length === 1 && typeof b['name'] === 'string') send(202, { droplet: this.render(created[0] as SimDroplet), links: { actions } });
    else send(202, { droplets: created.map((d) => this.render(d)), links: { actions } });
  }

  /** A droplet with every field the schema requires (modelled on the spec's example). */
  private render(d: SimDroplet): Record<string, unknown> {
    const active = this.opts.now() - d.createdAt >= this.opts.activateAfterMs;
    const ip = this.opts.addresses(d);
    const sizes = ['s-1vcpu-1gb', 's-1vcpu-2gb', '512mb'];
    return {
      id: d.id,
      name: d.name,
      memory: 1024,
      vcpus: 1,
      disk: 25,
      disk_info: [{ type: 'local', size: { amount: 25, unit: 'gib' } }],
      locked: false,
      status: active ? 'active' : 'new',
      created_at: new Date(d.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      features: ['private_networking'],
      backup_ids: [],
      next_backup_window: { start: '2026-07-30T00:00:00Z', end: '2026-07-30T23:00:00Z' },
      snapshot_ids: [],
      image: {
        id: 63663980, name: '24.04 (LTS) x64', distribution: 'Ubuntu', slug: typeof d.image === 'string' ? d.image : 'ubuntu-24-04-x64', public: true,
        regions: ['fra1', 'nyc3'], created_at: '2024-05-15T05:47:50Z', type: 'base', min_disk_size: 15, size_gigabytes: 2.36,
        description: '', tags: [], status: 'available', error_message: '',
      },
      volume_ids: [],
      size: {
        slug: d.size, memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893, regions: ['fra1', 'nyc3'],
        available: true, description: 'Basic',
      },
      size_slug: d.size,
      networks: active
        ? {
            v4: [
              { ip_address: ip.privateV4, netmask: '255.255.0.0', gateway: '10.135.0.1', type: 'private' },
              { ip_address: ip.publicV4, netmask: '255.254.0.0', gateway: '198.18.0.1', type: 'public' },
            ],
            v6: [],
          }
        : { v4: [], v6: [] },
      region: { name: 'Frankfurt 1', slug: d.region, features: ['private_networking', 'backups', 'metadata'], available: true, sizes },
      tags: d.tags,
      vpc_uuid: d.vpcUuid,
    };
  }
}

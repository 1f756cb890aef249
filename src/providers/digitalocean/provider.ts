// The DigitalOcean provider: ensures the spec's worker droplets exist (idempotent, no duplicates),
// keeps their Cloud Firewall (rules from spec/firewall-rules.ts) and, with more than one master, the
// API load balancer (load-balancer.ts), pins their self-generated SSH
// host keys in the cluster's known_hosts, records them in the state file, and destroys exactly the
// droplets and firewall it listed, by id.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, KubewrightError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { plannedHosts, workerName, type DestroyResult, type EnsuredHosts, type Provider, type ProviderPlan, type Teardown } from '../provider.ts';
import type { Host } from '../../spec/host.ts';
import type { Clock, DigitalOceanClient } from './api-client.ts';
import { readDropletState, removeDropletState, writeDropletState } from './droplet-state.ts';
import { deleteDropletIfPresent, dropletAddresses, listDropletsByTag, type Droplet } from './droplets.ts';
import { ensureWorkers, extraWorkers, workerNameRegExp, type EnsureEvent, type EnsureResult, type WorkerPoolSpec } from './ensure-workers.ts';
import { controlPlaneFirewallNames, designControlPlaneFirewalls, designFirewall, firewallName } from '../../spec/firewall-rules.ts';
import { deleteFirewall, ensureFirewall, findFirewalls, planFirewall, type Firewall, type FirewallOutcome, type FirewallPlan } from './firewall.ts';
import { hostKeyCloudConfig, HostKeyStore } from './host-keys.ts';
import { keysToPin, readRotations, writeRotation } from '../host-key-rotation.ts';
import { updateKnownHosts, type KnownHost } from './known-hosts.ts';
import { planWorkers, type WorkerPlan } from './plan-workers.ts';
import { controlPlanePools } from './control-plane-pools.ts';
import { awaitLoadBalancerIp, deleteLoadBalancer, findLoadBalancers, findOrCreateApiLoadBalancer, type LoadBalancer, type LoadBalancerOutcome } from './load-balancer.ts';
import { apiLoadBalancerDesign, apiLoadBalancerName } from '../../spec/control-plane-droplets.ts';
import { resolveSshKeys } from './ssh-keys.ts';
import { clusterStateDir, dropletStateFile, hostKeyDir } from './state-paths.ts';
import { specPath } from '../../spec/spec-path.ts';

export interface DigitalOceanProviderOptions {
  cluster: Cluster;
  /**
   * the API client, or how to open one: opened on the first call that needs the API (recorded()
   * never does); an opened client counts its requests through `onCall` for the ensure report
   */
  client: DigitalOceanClient | ((onCall: () => void) => Promise<DigitalOceanClient>);
  /** destroy: also delete tagged droplets whose names are not this cluster's workers */
  allTagged?: boolean;
  prune?: boolean;
  clock?: Clock;
  pollIntervalMs?: number;
  deadlineMs?: number;
  onEvent?: (e: EnsureEvent) => void;
}

export interface EnsureReport extends EnsureResult {
  /** the workers' Cloud Firewall (absent when provider.digitalocean.firewall.enabled is false) */
  firewall: FirewallOutcome | undefined;
  /** the masters' (and external etcd's) Cloud Firewalls, with a controlPlane section */
  controlPlaneFirewalls: FirewallOutcome[];
  /** the API load balancer (more than one master) */
  loadBalancer?: LoadBalancerOutcome | undefined;
  hosts: Host[];
  /** hosts whose host key kubewright did not generate (droplets made outside kubewright) */
  unpinned: string[];
  sshKeyUploaded: boolean;
}

export class DigitalOceanProvider implements Provider {
  readonly kind = 'digitalocean';
  private readonly opts: DigitalOceanProviderOptions;
  readonly pool: WorkerPoolSpec;
  private readonly keys: HostKeyStore;
  private opened: Promise<DigitalOceanClient> | undefined;
  private apiCalls = 0;

  constructor(opts: DigitalOceanProviderOptions) {
    const p = opts.cluster.provider;
    if (p.kind !== 'digitalocean') {
      throw new KubewrightError(`provider: the spec uses provider.${p.kind}, not provider.digitalocean`, { hint: 'set provider.digitalocean in the spec' });
    }
    this.opts = opts;
    this.pool = { region: p.region, size: p.size, image: p.image, tags: p.tags, vpcUuid: p.vpcUuid, domain: p.domain, namePattern: p.namePattern };
    this.keys = new HostKeyStore(hostKeyDir(opts.cluster));
  }

  private client(): Promise<DigitalOceanClient> {
    const c = this.opts.client;
    this.opened ??= typeof c === 'function' ? c(() => this.apiCalls++) : Promise.resolve(c);
    return this.opened;
  }

  private get tag(): string {
    return this.pool.tags[0] ?? 'k8s-worker';
  }

  private wantedNames(): string[] {
    return Array.from({ length: this.opts.cluster.workers.count }, (_, i) => workerName(this.pool.namePattern, i, this.pool.domain));
  }

  private toHost(d: Droplet): Host {
    const a = dropletAddresses(d);
    return { name: d.name, address: a.publicAddress, port: this.opts.cluster.ssh.port, user: this.opts.cluster.ssh.user, publicAddress: a.publicAddress, privateAddress: a.privateAddress };
  }

  /** The spec's workers that exist now (by tag), in index order. */
  async hosts(): Promise<Host[]> {
    const listed = await listDropletsByTag(await this.client(), this.tag);
    return this.wantedNames().flatMap((n) => {
      const d = listed.filter((x) => x.name === n).sort((a, b) => a.id - b.id)[0];
      return d ? [this.toHost(d)] : [];
    });
  }

  /** The spec's workers with the addresses the last ensure recorded; no API call, no token. */
  async recorded(): Promise<Host[]> {
    const state = await readDropletState(dropletStateFile(this.opts.cluster));
    return plannedHosts(this.opts.cluster).map((h) => {
      const known = state?.hosts.find((s) => s.name === h.name);
      return known ? { ...h, address: known.publicAddress, publicAddress: known.publicAddress, privateAddress: known.privateAddress } : h;
    });
  }

  async ensure(): Promise<EnsuredHosts> {
    const r = await this.ensureReport();
    return { hosts: r.hosts, report: { created: r.created, extras: r.extras, pruned: r.pruned, unpinned: r.unpinned, apiCalls: this.apiCalls, firewall: r.firewall, ...(r.controlPlaneFirewalls.length ? { controlPlaneFirewalls: r.controlPlaneFirewalls } : {}), ...(r.loadBalancer ? { loadBalancer: r.loadBalancer } : {}) } };
  }

  /** ensure() with the DigitalOcean details (which droplets, whether the SSH key was uploaded). */
  async ensureReport(): Promise<EnsureReport> {
    const { cluster } = this.opts;
    const client = await this.client();
    const p = cluster.provider.kind === 'digitalocean' ? cluster.provider : undefined;
    const publicKeyPath = cluster.ssh.publicKeyPath ?? `${cluster.ssh.privateKeyPath}.pub`;
    let sshKeyUploaded = false;
    // looked up only when a droplet is created (once for every pool): GET /v2/account/keys allows 10 requests per minute
    let keysLookup: Promise<(string | number)[]> | undefined;
    const sshKeys = (): Promise<(string | number)[]> => (keysLookup ??= resolveSshKeys(client, {
      sshKeys: p?.sshKeys ?? [],
      publicKeyPath: specPath(cluster, publicKeyPath),
      keyName: `kubewright-${cluster.name}`,
    }).then((ssh) => {
      sshKeyUploaded = ssh.uploaded;
      return ssh.keys;
    }));
    // the firewalls first: each covers its role's tag, so every new droplet is behind one from its first boot
    const tagsCreated = new Set<string>();
    const design = designFirewall(cluster);
    const firewall = design ? await ensureFirewall(client, design, tagsCreated) : undefined;
    // the API load balancer before the masters' firewall, which admits it by id; its address is awaited after the droplets
    const lbDesign = apiLoadBalancerDesign(cluster);
    const pendingLb = lbDesign ? await findOrCreateApiLoadBalancer(client, lbDesign, tagsCreated) : undefined;
    const controlPlaneFirewalls: FirewallOutcome[] = [];
    for (const d of designControlPlaneFirewalls(cluster, pendingLb?.lb.id)) controlPlaneFirewalls.push(await ensureFirewall(client, d, tagsCreated));
    const ensurePool = (pool: WorkerPoolSpec, count: number, prune: boolean | undefined): Promise<EnsureResult> => ensureWorkers({
      client,
      pool,
      count,
      sshKeys,
      userData: async (names) => hostKeyCloudConfig(await Promise.all(names.map((n) => this.keys.loadOrCreate(n)))),
      ...(prune === undefined ? {} : { prune }),
      ...(this.opts.clock === undefined ? {} : { clock: this.opts.clock }),
      ...(this.opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.opts.pollIntervalMs }),
      ...(this.opts.deadlineMs === undefined ? {} : { deadlineMs: this.opts.deadlineMs }),
      ...(this.opts.onEvent === undefined ? {} : { onEvent: this.opts.onEvent }),
    });
    // workers and each control-plane role side by side: one batched create per role; control-plane droplets are never pruned
    const [workers, ...roles] = await Promise.all([
      ensurePool(this.pool, cluster.workers.count, this.opts.prune),
      ...controlPlanePools(cluster, this.pool).map(async (r) => ({ role: r.role, result: await ensurePool(r.pool, r.count, false) })),
    ]);
    const loadBalancer = lbDesign && pendingLb ? await awaitLoadBalancerIp(client, lbDesign, pendingLb, this.opts.clock === undefined ? {} : { clock: this.opts.clock }) : undefined;
    const roleOf = new Map(roles.flatMap((r) => r.result.workers.map((w) => [w.name, r.role] as const)));
    const result: EnsureResult = {
      workers: [...workers.workers, ...roles.flatMap((r) => r.result.workers)],
      created: [...workers.created, ...roles.flatMap((r) => r.result.created)],
      extras: [...workers.extras, ...roles.flatMap((r) => r.result.extras)],
      pruned: workers.pruned,
    };

    const known: KnownHost[] = [];
    const unpinned: string[] = [];
    const pinned = new Set<string>();
    const rotations = await readRotations(cluster);
    for (const w of result.workers) {
      const provisioned = await this.keys.loadPublic(w.name);
      if (!provisioned) {
        unpinned.push(w.name);
        continue;
      }
      pinned.add(w.name);
      // once rotated, the host's own key is pinned, never the user_data key again
      const names = [w.name, w.publicAddress, ...(w.privateAddress ? [w.privateAddress] : [])].map((n) => this.knownHostName(n));
      for (const publicKey of keysToPin(rotations, w.name, provisioned)) known.push({ names, publicKey });
    }
    await updateKnownHosts(specPath(cluster, cluster.ssh.knownHostsPath), known, result.pruned.map((n) => this.knownHostName(n)));
    for (const n of result.pruned) await this.forgetHostKey(n);
    await writeDropletState(dropletStateFile(cluster), {
      version: 1,
      cluster: cluster.name,
      tag: this.tag,
      hosts: result.workers.map((w) => ({ name: w.name, id: w.id, publicAddress: w.publicAddress, privateAddress: w.privateAddress, hostKeyPinned: pinned.has(w.name) })),
      ...(loadBalancer ? { loadBalancer: { name: loadBalancer.name, id: loadBalancer.id, ip: loadBalancer.ip } } : {}),
    });
    const hosts = result.workers.map((w): Host => {
      const role = roleOf.get(w.name);
      return { name: w.name, address: w.publicAddress, port: cluster.ssh.port, user: cluster.ssh.user, publicAddress: w.publicAddress, privateAddress: w.privateAddress, ...(role ? { role } : {}) };
    });
    return { ...result, hosts, unpinned, sshKeyUploaded, firewall, controlPlaneFirewalls, ...(loadBalancer ? { loadBalancer } : {}) };
  }

  /**
   * What ensure() would create — every role's droplets (one list call per role), the firewalls, the
   * API load balancer — and which extra workers prune would delete, and the workers that exist.
   */
  async plan(): Promise<ProviderPlan> {
    const { cluster } = this.opts;
    const client = await this.client();
    const design = designFirewall(cluster);
    const firewall = design ? await planFirewall(client, design) : undefined;
    const lbDesign = apiLoadBalancerDesign(cluster);
    const lb = lbDesign ? (await findLoadBalancers(client, lbDesign.name))[0] : undefined;
    // a balancer still to be made is admitted by the id it will get: shown by its name
    const cpFirewalls: FirewallPlan[] = [];
    for (const d of designControlPlaneFirewalls(cluster, lbDesign ? (lb?.id ?? `<${lbDesign.name}>`) : undefined)) cpFirewalls.push(await planFirewall(client, d));
    const workers: WorkerPlan = await planWorkers(client, this.pool, cluster.workers.count);
    const roles = await Promise.all(controlPlanePools(cluster, this.pool).map((r) => planWorkers(client, r.pool, r.count)));
    const toCreate = [...workers.toCreate, ...roles.flatMap((r) => r.toCreate)];
    const quota = workers.quota ?? roles.find((r) => r.quota)?.quota;
    const machines: WorkerPlan = {
      existing: [...workers.existing, ...roles.flatMap((r) => r.existing)],
      toCreate,
      extras: workers.extras,
      createCalls: workers.createCalls + roles.reduce((n, r) => n + r.createCalls, 0),
      ...(quota ? { quota } : {}),
    };
    return {
      hosts: [...(await this.hosts()), ...(await this.controlPlaneHosts())],
      machines,
      firewall,
      ...(cpFirewalls.length ? { controlPlaneFirewalls: cpFirewalls } : {}),
      ...(lbDesign ? { loadBalancer: lb ? { name: lbDesign.name, action: 'unchanged' as const, id: lb.id, ...(lb.ip ? { ip: lb.ip } : {}) } : { name: lbDesign.name, action: 'create' as const } } : {}),
    };
  }

  /**
   * The spec's control-plane (and etcd) hosts with their role: those that exist now (by their
   * role's tag) with their addresses, the others as planned, without one.
   */
  private async controlPlaneHosts(): Promise<Host[]> {
    const client = await this.client();
    const pools = controlPlanePools(this.opts.cluster, this.pool);
    const listed = new Map((await Promise.all(pools.map((r) => listDropletsByTag(client, r.pool.tags[0] ?? '')))).flat().map((d) => [d.name, d]));
    return plannedHosts(this.opts.cluster).filter((h) => h.role).map((h) => {
      const d = listed.get(h.name);
      return d ? { ...this.toHost(d), role: h.role! } : h;
    });
  }

  /** The firewalls `down` deletes: those named like this cluster's (whether or not the spec still turns them on). */
  async firewalls(): Promise<Firewall[]> {
    const client = await this.client();
    const names = controlPlaneFirewallNames(this.opts.cluster);
    return (await Promise.all([firewallName(this.opts.cluster), names.controlPlane, names.etcd].map((n) => findFirewalls(client, n)))).flat();
  }

  /** The API load balancers `down` deletes: those named like this cluster's. */
  async loadBalancers(): Promise<LoadBalancer[]> {
    return findLoadBalancers(await this.client(), apiLoadBalancerName(this.opts.cluster));
  }

  /** Each tag `down` deletes by, with the droplet names that belong to it: the workers' pool, and with a controlPlane section each role's. */
  private teardownPools(): { tag: string; names: RegExp }[] {
    return [
      { tag: this.tag, names: workerNameRegExp(this.pool) },
      ...controlPlanePools(this.opts.cluster, this.pool).map((r) => ({ tag: r.pool.tags[0] ?? '', names: workerNameRegExp(r.pool) })),
    ];
  }

  /** The droplets carrying the pools' tags now (each once): what `down` shows before it deletes them. */
  async taggedDroplets(): Promise<Droplet[]> {
    const client = await this.client();
    const seen = new Set<number>();
    const out: Droplet[] = [];
    for (const { tag } of this.teardownPools()) {
      for (const d of await listDropletsByTag(client, tag)) {
        if (seen.has(d.id)) continue;
        seen.add(d.id);
        out.push(d);
      }
    }
    return out;
  }

  /**
   * Lists the droplets carrying the pool's tag, refuses when that reaches beyond this cluster's
   * workers (unless allTagged), lets `confirm` see them, then deletes exactly those (by id) and
   * forgets their host keys, known_hosts lines and state. Never deletes by tag: a droplet tagged
   * after the listing is not touched.
   */
  async destroy(confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult> {
    const pools = this.teardownPools();
    const tags = [...new Set(pools.map((p) => p.tag))].join(' or ');
    const doomed = await this.taggedDroplets();
    const firewalls = await this.firewalls();
    const balancers = await this.loadBalancers();
    if (doomed.length === 0 && firewalls.length === 0 && balancers.length === 0) {
      return { removed: [], message: `no droplets tagged ${tags}, no firewall ${firewallName(this.opts.cluster)} and no load balancer: nothing to delete` };
    }
    const tagOf = (d: Droplet): string => pools.find((p) => d.tags?.includes(p.tag))?.tag ?? this.tag;
    // a droplet is ours when its name fits the pool of one of the tags it carries
    const foreign = doomed.filter((d) => !pools.some((p) => d.tags?.includes(p.tag) && p.names.test(d.name))).map((d) => d.name);
    if (foreign.length > 0 && !this.opts.allTagged) {
      const shown = foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')} and ${foreign.length - 5} more` : foreign.join(', ');
      throw new InputError(`down: ${foreign.length} droplets tagged ${tags} are not ${this.opts.cluster.controlPlane ? 'hosts' : 'workers'} of cluster ${this.opts.cluster.name} (${shown}); deleting by tag would remove them too`, {
        hint: 'give this pool its own first tag in provider.digitalocean.tags, or pass --all-tagged to delete them as well',
      });
    }
    const parts = [
      `${doomed.length} droplets tagged ${tags}`,
      ...(balancers.length ? [`load balancer ${balancers[0]!.name}`] : []),
      ...(firewalls.length ? [`firewall${firewalls.length > 1 ? 's' : ''} ${[...new Set(firewalls.map((f) => f.name))].join(', ')}`] : []),
    ];
    const what = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}` : parts.join('');
    const summary = `delete ${what}`;
    const teardown: Teardown = {
      items: [
        ...doomed.map((d) => ({ name: d.name, detail: `will be deleted (tag ${tagOf(d)}, id ${d.id})` })),
        ...balancers.map((l) => ({ name: `load balancer ${l.name}`, detail: `will be deleted (id ${l.id})` })),
        ...firewalls.map((f) => ({ name: `firewall ${f.name}`, detail: `will be deleted (id ${f.id})` })),
      ],
      summary,
      question: `${summary}?`,
      hint: 'pass --yes to confirm (no terminal to ask on)',
    };
    if (!(await confirm(teardown))) return { removed: [], message: 'nothing deleted' };
    // exactly what was shown, by id: nothing tagged or created after the listing
    await this.deleteListed(doomed, firewalls, balancers);
    return { removed: doomed.map((d) => d.name), message: `deleted ${what}` };
  }

  /** Deletes exactly these droplets (then balancers, then firewalls) by id, then forgets their host keys, known_hosts lines and state. */
  async deleteListed(doomed: readonly Droplet[], firewalls: readonly Firewall[] = [], balancers: readonly LoadBalancer[] = []): Promise<void> {
    const client = await this.client();
    for (const d of doomed) await deleteDropletIfPresent(client, d.id);
    for (const l of balancers) await deleteLoadBalancer(client, l.id);
    // a firewall the balancer's id is named in goes after it
    for (const f of firewalls) await deleteFirewall(client, f.id);
    const names = doomed.flatMap((d) => {
      const a = dropletAddresses(d);
      return [d.name, a.publicAddress, a.privateAddress].filter((x): x is string => x !== undefined);
    });
    const { cluster } = this.opts;
    await updateKnownHosts(specPath(cluster, cluster.ssh.knownHostsPath), [], names.map((n) => this.knownHostName(n)));
    for (const d of doomed) await this.forgetHostKey(d.name);
    await removeDropletState(dropletStateFile(cluster));
  }

  /** Workers of the pool with an index ≥ workers.count that exist now (one list call), highest index first. */
  async retired(): Promise<Host[]> {
    const listed = await listDropletsByTag(await this.client(), this.tag);
    return extraWorkers(listed, this.pool, new Set(this.wantedNames())).map((d) => this.toHost(d));
  }

  /**
   * Deletes these retired workers' droplets (found by tag and name, deleted by id; one already gone
   * is fine) and forgets their host keys and known_hosts lines. Refuses a name the spec still wants.
   */
  async release(hosts: readonly Host[]): Promise<string[]> {
    const wanted = new Set(this.wantedNames());
    const kept = hosts.filter((h) => wanted.has(h.name)).map((h) => h.name);
    if (kept.length > 0) throw new KubewrightError(`digitalocean: refusing to delete ${kept.join(', ')}: still within workers.count`, { hint: 'lower workers.count first' });
    const names = new Set(hosts.map((h) => h.name));
    const doomed = extraWorkers(await listDropletsByTag(await this.client(), this.tag), this.pool, wanted).filter((d) => names.has(d.name));
    const client = await this.client();
    for (const d of doomed) await deleteDropletIfPresent(client, d.id);
    const { cluster } = this.opts;
    const known = hosts.flatMap((h) => [h.name, h.publicAddress, h.privateAddress].filter((x): x is string => x !== undefined));
    await updateKnownHosts(specPath(cluster, cluster.ssh.knownHostsPath), [], known.map((n) => this.knownHostName(n)));
    for (const h of hosts) await this.forgetHostKey(h.name);
    return hosts.map((h) => h.name);
  }

  private knownHostName(n: string): string {
    return this.opts.cluster.ssh.port === 22 ? n : `[${n}]:${this.opts.cluster.ssh.port}`;
  }

  private async forgetHostKey(name: string): Promise<void> {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name)) return;
    await writeRotation(this.opts.cluster, name, undefined);
    await rm(join(this.keys.dir, name), { force: true });
    await rm(join(this.keys.dir, `${name}.pub`), { force: true });
  }

  stateDir(): string {
    return clusterStateDir(this.opts.cluster);
  }
}

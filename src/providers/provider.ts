// What every provider implements, and the hosts a spec names before any provider is asked.
import type { Cluster, StaticHostSpec } from '../spec/cluster.ts';
import type { Host, HostRole } from '../spec/host.ts';
import { controlPlaneNamePatterns } from '../spec/control-plane-droplets.ts';

/** What an ensure did, for people and for `--output json`. */
export interface ProviderReport {
  /** names created by this call */
  created: string[];
  /** hosts beyond workers.count that were kept (DigitalOcean without --prune) */
  extras: string[];
  pruned: string[];
  /** hosts whose SSH host key kubewright could not pin (made outside kubewright) */
  unpinned: string[];
  /** cloud API requests made */
  apiCalls: number;
  /** DigitalOcean: the workers' Cloud Firewall and what ensure did to it */
  firewall?: { name: string; id: string; action: 'created' | 'updated' | 'unchanged' } | undefined;
  /** DigitalOcean with a controlPlane section: the masters' (and external etcd's) Cloud Firewalls */
  controlPlaneFirewalls?: { name: string; id: string; action: 'created' | 'updated' | 'unchanged' }[] | undefined;
  /** DigitalOcean, more than one master: the API load balancer and its IP */
  loadBalancer?: { name: string; id: string; ip: string; action: 'created' | 'unchanged' } | undefined;
}

export interface EnsuredHosts {
  hosts: Host[];
  report: ProviderReport;
}

/** What ensure would create, from one look at the provider (DigitalOcean: one list call). */
export interface ProviderPlan {
  /** the hosts that exist now and can be reached */
  hosts: Host[];
  /** machines ensure would create or delete; undefined for providers that create nothing */
  machines?: { existing: string[]; toCreate: string[]; extras: string[]; createCalls: number; quota?: { limit: number; existing: number } } | undefined;
  /** DigitalOcean: what ensure would do to the workers' Cloud Firewall (`+ rule` / `- rule` changes) */
  firewall?: { name: string; action: 'create' | 'update' | 'unchanged'; id?: string | undefined; changes: string[] } | undefined;
  /** DigitalOcean with a controlPlane section: the same for the masters' (and external etcd's) firewalls */
  controlPlaneFirewalls?: { name: string; action: 'create' | 'update' | 'unchanged'; id?: string | undefined; changes: string[] }[] | undefined;
  /** DigitalOcean, more than one master: whether the API load balancer exists (its id and IP) or is to be created */
  loadBalancer?: { name: string; action: 'create' | 'unchanged'; id?: string | undefined; ip?: string | undefined } | undefined;
}

/** What destroy would remove, shown to a person before it happens. */
export interface Teardown {
  /** one line per machine: `name` and what happens to it (`will be deleted (tag k8s-worker, id 42)`) */
  items: { name: string; detail: string }[];
  /** the whole of it, e.g. `delete 3 droplets tagged k8s-worker` */
  summary: string;
  /** the question a person answers with `yes` */
  question: string;
  /** how to confirm without a terminal */
  hint: string;
}

export interface DestroyResult {
  /** names removed (none when confirm refused or nothing existed) */
  removed: string[];
  /** one line for people: what happened */
  message: string;
}

export interface Provider {
  readonly kind: Cluster['provider']['kind'];
  /** what ensure() would create; touches nothing */
  plan(): Promise<ProviderPlan>;
  /** create what is missing so that the spec's workers exist; returns them and what changed */
  ensure(): Promise<EnsuredHosts>;
  /** the hosts as far as kubewright knows without any API call (spec, state files, saved output) */
  recorded(): Promise<Host[]>;
  /**
   * remove the hosts kubewright created: `confirm` sees what would go first and may refuse
   * (then nothing is removed). Providers whose hosts kubewright did not create throw an InputError
   * that says who removes them.
   */
  destroy(confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult>;
  /**
   * the hosts kubewright brought up that the spec no longer wants (DigitalOcean: workers with an
   * index ≥ workers.count; static: hosts recorded by an earlier `up` and since removed from the
   * spec), reachable as they were; `up --prune` drains and removes them. Providers without it
   * have none.
   */
  retired?(): Promise<Host[]>;
  /** the last step of removing retired hosts: destroy them (DigitalOcean) or forget them (static); returns the names released */
  release?(hosts: readonly Host[]): Promise<string[]>;
}

export const noReport = (): ProviderReport => ({ created: [], extras: [], pruned: [], unpinned: [], apiCalls: 0 });

/** The droplet name for a worker index: the post's `k8s-worker-${count.index}.${domain}`. */
export function workerName(pattern: string, index: number, domain: string): string {
  return pattern.replaceAll('{index}', String(index)).replaceAll('{domain}', domain);
}


/** How many hosts of each non-worker role the spec asks for (none without a controlPlane section). */
function roleCounts(cluster: Cluster): [HostRole, number][] {
  const cp = cluster.controlPlane;
  if (!cp) return [];
  return [['control-plane', cp.count], ['etcd', cp.etcd.placement === 'external' ? cp.etcd.count : 0]];
}

/**
 * The hosts a spec describes, without asking any API: static hosts as written, DigitalOcean and
 * lab names from their patterns (addresses unknown until provisioned). Used by `render` and `plan`.
 * Workers come first; with a controlPlane section the control-plane hosts, then etcd's own hosts,
 * follow, each carrying its role.
 */
export function plannedHosts(cluster: Cluster): Host[] {
  const p = cluster.provider;
  const user = cluster.ssh.user;
  const port = cluster.ssh.port;
  switch (p.kind) {
    case 'static': {
      const cp = cluster.controlPlane;
      const listed: [StaticHostSpec[], HostRole | undefined][] = [
        [p.hosts, undefined],
        [cp?.hosts ?? [], 'control-plane'],
        [cp?.etcd.placement === 'external' ? cp.etcd.hosts : [], 'etcd'],
      ];
      return listed.flatMap(([hosts, role]) => hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: h.port ?? port,
        user: h.user ?? user,
        publicAddress: h.address,
        privateAddress: h.privateAddress,
        ...(role ? { role } : {}),
      })));
    }
    case 'digitalocean':
      return [
        ...Array.from({ length: cluster.workers.count }, (_, i) => ({
          name: workerName(p.namePattern, i, p.domain),
          address: undefined,
          port,
          user,
        })),
        ...roleCounts(cluster).flatMap(([role, n]) => Array.from({ length: n }, (_, i) => ({
          name: workerName(controlPlaneNamePatterns[role], i, p.domain), address: undefined, port, user, role,
        }))),
      ];
    case 'lab': {
      const letter = { 'control-plane': 'm', etcd: 'e' } as const;
      return [
        ...Array.from({ length: p.hosts }, (_, i) => ({ name: `${cluster.name}-w${i}`, address: undefined, port: 22, user: 'root' })),
        ...roleCounts(cluster).flatMap(([role, n]) => Array.from({ length: n }, (_, i) => ({
          name: `${cluster.name}-${letter[role]}${i}`, address: undefined, port: 22, user: 'root', role,
        }))),
      ];
    }
    case 'terraform':
      return [];
  }
}

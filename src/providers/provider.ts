// What every provider implements, and the hosts a spec names before any provider is asked.
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';

export interface Provider {
  /** the hosts that exist now */
  hosts(): Promise<Host[]>;
  /** create what is missing so that the spec's workers exist, and return them */
  ensure?(): Promise<Host[]>;
  destroy?(): Promise<void>;
}

/** The droplet name for a worker index: the post's `k8s-worker-${count.index}.${domain}`. */
export function workerName(pattern: string, index: number, domain: string): string {
  return pattern.replaceAll('{index}', String(index)).replaceAll('{domain}', domain);
}

/**
 * The hosts a spec describes, without asking any API: static hosts as written, DigitalOcean and
 * lab names from their patterns (addresses unknown until provisioned). Used by `render` and `plan`.
 */
export function plannedHosts(cluster: Cluster): Host[] {
  const p = cluster.provider;
  const user = cluster.ssh.user;
  const port = cluster.ssh.port;
  switch (p.kind) {
    case 'static':
      return p.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: h.port ?? port,
        user: h.user ?? user,
        publicAddress: h.address,
        privateAddress: h.privateAddress,
      }));
    case 'digitalocean':
      return Array.from({ length: cluster.workers.count }, (_, i) => ({
        name: workerName(p.namePattern, i, p.domain),
        address: undefined,
        port,
        user,
      }));
    case 'lab':
      return Array.from({ length: p.hosts }, (_, i) => ({ name: `${cluster.name}-w${i}`, address: undefined, port: 22, user: 'root' }));
    case 'terraform':
      return [];
  }
}

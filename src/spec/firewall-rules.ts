// The workers' Cloud Firewall as data (pure): SSH only from firewall.sshFrom; kubelet, flannel and
// NodePorts only from the pool's own tag, firewall.internalTags and firewall.internalFrom; all
// outbound. One description serves the DigitalOcean API (`up`, `plan`, `down`) and the Terraform
// JSON, so both make the same firewall. Also: what static and lab hosts leave exposed.
import type { Cluster } from './cluster.ts';

export type FirewallProtocol = 'tcp' | 'udp' | 'icmp';

export interface FirewallRule {
  protocol: FirewallProtocol;
  /** a port, a range `a-b`, or `all` (tcp/udp); icmp has none */
  ports: string;
  addresses: string[];
  tags: string[];
  /** what the rule is for, shown by `plan` */
  purpose: string;
}

export interface FirewallDesign {
  /** `kubewright-<cluster>`: how kubewright finds its firewall again */
  name: string;
  /** the droplets it covers: the pool's tag (new workers are covered from birth) */
  tags: string[];
  inbound: FirewallRule[];
  outbound: FirewallRule[];
}

// kubelet's API (exec, logs) and its read-only port (pods, stats) — kubelet defaults since 1.x
export const kubeletPort = 10250;
export const kubeletReadOnlyPort = 10255;
// the Service NodePort range (kube-apiserver --service-node-port-range default)
export const nodePortRange = '30000-32767';

/** flannel's backend port: VXLAN on Linux's 8472/udp, WireGuard on 51820/udp; host-gw sends plain IP. */
function flannelPorts(cluster: Cluster): { protocol: FirewallProtocol; ports: string; purpose: string }[] {
  switch (cluster.flannel.backend) {
    case 'vxlan':
      return [{ protocol: 'udp', ports: '8472', purpose: 'flannel VXLAN' }];
    case 'wireguard':
      return [{ protocol: 'udp', ports: '51820', purpose: 'flannel WireGuard' }];
    case 'host-gw':
      return [];
  }
}

export function firewallName(cluster: Pick<Cluster, 'name'>): string {
  return `kubewright-${cluster.name}`;
}

/** The firewall kubewright manages for a DigitalOcean pool; undefined when firewall.enabled is false. */
export function designFirewall(cluster: Cluster): FirewallDesign | undefined {
  const p = cluster.provider;
  if (p.kind !== 'digitalocean' || !p.firewall.enabled) return undefined;
  const poolTag = p.tags[0] ?? 'k8s-worker';
  const internal = { addresses: [...p.firewall.internalFrom], tags: [...new Set([poolTag, ...p.firewall.internalTags])] };
  const anywhere = ['0.0.0.0/0', '::/0'];
  return {
    name: firewallName(cluster),
    tags: [poolTag],
    inbound: [
      { protocol: 'tcp', ports: String(cluster.ssh.port), addresses: [...p.firewall.sshFrom], tags: [], purpose: 'SSH (kubewright, operators)' },
      { protocol: 'tcp', ports: String(kubeletPort), ...internal, purpose: 'kubelet API' },
      { protocol: 'tcp', ports: String(kubeletReadOnlyPort), ...internal, purpose: 'kubelet read-only port' },
      ...flannelPorts(cluster).map((f) => ({ ...f, ...internal })),
      { protocol: 'tcp', ports: nodePortRange, ...internal, purpose: 'NodePort Services' },
      { protocol: 'udp', ports: nodePortRange, ...internal, purpose: 'NodePort Services' },
    ],
    outbound: [
      { protocol: 'tcp', ports: 'all', addresses: anywhere, tags: [], purpose: 'all outbound' },
      { protocol: 'udp', ports: 'all', addresses: anywhere, tags: [], purpose: 'all outbound' },
      { protocol: 'icmp', ports: '', addresses: anywhere, tags: [], purpose: 'all outbound' },
    ],
  };
}

/** One line per rule, for `plan` and messages: `in tcp 10250 from tag:k8s-worker (kubelet API)`. */
export function describeRule(direction: 'in' | 'out', r: Pick<FirewallRule, 'protocol' | 'ports' | 'addresses' | 'tags'> & { purpose?: string }): string {
  const who = [...r.addresses, ...r.tags.map((t) => `tag:${t}`)].join(', ') || 'nobody';
  const ports = r.protocol === 'icmp' ? '' : ` ${r.ports}`;
  return `${direction} ${r.protocol}${ports} ${direction === 'in' ? 'from' : 'to'} ${who}${r.purpose ? ` (${r.purpose})` : ''}`;
}

/**
 * What a spec leaves open that kubewright does not guard: hosts of providers without a managed
 * firewall, and a DigitalOcean pool whose firewall is off or lets SSH in from anywhere.
 */
export function exposureWarnings(cluster: Cluster): string[] {
  const p = cluster.provider;
  const kubelet = cluster.profile === 'seed'
    ? `kubelet ${kubeletPort} (seed profile: anonymous requests allowed, AlwaysAllow — anyone who reaches it can exec into pods) and ${kubeletReadOnlyPort} (read-only data)`
    : `kubelet ${kubeletPort} (authenticated) and ${kubeletReadOnlyPort} if enabled`;
  const flannel = flannelPorts(cluster).map((f) => `${f.purpose} ${f.ports}/${f.protocol}`);
  const open = [kubelet, ...flannel, `NodePorts ${nodePortRange}`].join(', ');
  switch (p.kind) {
    case 'static':
    case 'terraform':
      return [`exposed: kubewright manages no firewall for provider.${p.kind} hosts; ${open} listen on every address of each host — allow them only from the cluster's network (host firewall or cloud firewall), see docs/security.md`];
    case 'lab':
      return [`exposed: lab machines have no firewall; ${open} are reachable from this machine and anything routed to bridge ${p.bridge} — keep the lab off shared networks`];
    case 'digitalocean': {
      if (!p.firewall.enabled) return [`exposed: provider.digitalocean.firewall.enabled is false; ${open} are reachable from the internet on each droplet's public address`];
      const world = p.firewall.sshFrom.filter((a) => a === '0.0.0.0/0' || a === '::/0');
      return world.length > 0 ? [`exposed: SSH (${cluster.ssh.port}/tcp) is open to ${world.join(' and ')}; narrow provider.digitalocean.firewall.sshFrom to the addresses kubewright runs from`] : [];
    }
  }
}

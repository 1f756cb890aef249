// The Cloud Firewalls as data (pure). The workers': SSH only from firewall.sshFrom; kubelet,
// flannel and NodePorts only from the pool's own tag, firewall.internalTags, firewall.internalFrom
// (and the masters' tag with a controlPlane section: the API server reaches the kubelets); all
// outbound. With a controlPlane section, the masters' (tag k8s-master): the API (6443) from
// firewall.apiFrom, the cluster's own droplets and the API load balancer, and when etcd is stacked
// its client port from the masters and workers (flannel reads etcd) and its peer port from the
// masters only; external etcd gets a firewall of its own on the etcd tag. One description serves
// the DigitalOcean API (`up`, `plan`, `down`) and the Terraform JSON, so both make the same
// firewalls. Also: what static and lab hosts leave exposed.
import { defaultEtcdTag, type Cluster } from './cluster.ts';
import { controlPlaneTag, masterApiPort } from './control-plane-droplets.ts';

export type FirewallProtocol = 'tcp' | 'udp' | 'icmp';

export interface FirewallRule {
  protocol: FirewallProtocol;
  /** a port, a range `a-b`, or `all` (tcp/udp); icmp has none */
  ports: string;
  addresses: string[];
  tags: string[];
  /** load balancers whose traffic it admits (the API balancer's id, or a Terraform reference to it) */
  loadBalancers?: string[];
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
// etcd's client and peer ports (etcd's defaults, render/etcd-member.ts)
export const etcdClientPort = 2379;
export const etcdPeerPort = 2380;
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

const anywhere = ['0.0.0.0/0', '::/0'];
const allOutbound: FirewallRule[] = [
  { protocol: 'tcp', ports: 'all', addresses: anywhere, tags: [], purpose: 'all outbound' },
  { protocol: 'udp', ports: 'all', addresses: anywhere, tags: [], purpose: 'all outbound' },
  { protocol: 'icmp', ports: '', addresses: anywhere, tags: [], purpose: 'all outbound' },
];

/** The firewall kubewright manages for a DigitalOcean pool; undefined when firewall.enabled is false. */
export function designFirewall(cluster: Cluster): FirewallDesign | undefined {
  const p = cluster.provider;
  if (p.kind !== 'digitalocean' || !p.firewall.enabled) return undefined;
  const poolTag = p.tags[0] ?? 'k8s-worker';
  // the API servers reach each kubelet (logs, exec, metrics) from the masters
  const masters = cluster.controlPlane ? [controlPlaneTag] : [];
  const internal = { addresses: [...p.firewall.internalFrom], tags: [...new Set([poolTag, ...masters, ...p.firewall.internalTags])] };
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
    outbound: allOutbound,
  };
}

/** The masters' firewall name; the external etcd members' is `…-etcd`. */
export function controlPlaneFirewallNames(cluster: Pick<Cluster, 'name'>): { controlPlane: string; etcd: string } {
  return { controlPlane: `${firewallName(cluster)}-control-plane`, etcd: `${firewallName(cluster)}-etcd` };
}

/**
 * The control plane's firewalls on DigitalOcean (none without a controlPlane section or with
 * firewall.enabled false): the masters' on tag k8s-master, and with external etcd the members' on
 * the etcd tag. `loadBalancer` is the API balancer's id (or a Terraform reference to it) when one
 * fronts the masters: its traffic to 6443 is admitted whatever apiFrom says (apiFrom then narrows
 * the balancer itself, see apiLoadBalancerDesign).
 */
export function designControlPlaneFirewalls(cluster: Cluster, loadBalancer?: string): FirewallDesign[] {
  const p = cluster.provider;
  const cp = cluster.controlPlane;
  if (p.kind !== 'digitalocean' || !p.firewall.enabled || !cp) return [];
  const workerTag = p.tags[0] ?? 'k8s-worker';
  const etcdTag = cluster.etcd.discovery.digitaloceanTag ?? defaultEtcdTag;
  const names = controlPlaneFirewallNames(cluster);
  const ssh: FirewallRule = { protocol: 'tcp', ports: String(cluster.ssh.port), addresses: [...p.firewall.sshFrom], tags: [], purpose: 'SSH (kubewright, operators)' };
  const internalFrom = [...p.firewall.internalFrom];
  // etcd's clients: the API servers, flannel on every worker (it reads its network config and leases there), kubewright from internalFrom
  const etcdClients: FirewallRule = { protocol: 'tcp', ports: String(etcdClientPort), addresses: internalFrom, tags: [controlPlaneTag, workerTag], purpose: 'etcd clients (API servers, flannel)' };
  const api: FirewallRule = {
    protocol: 'tcp',
    ports: String(masterApiPort),
    addresses: [...new Set([...p.firewall.apiFrom, ...internalFrom])],
    tags: [controlPlaneTag, workerTag],
    ...(loadBalancer ? { loadBalancers: [loadBalancer] } : {}),
    purpose: 'Kubernetes API',
  };
  const stacked = cp.etcd.placement === 'stacked';
  const masters: FirewallDesign = {
    name: names.controlPlane,
    tags: [controlPlaneTag],
    inbound: [
      ssh,
      api,
      ...(stacked ? [etcdClients, { protocol: 'tcp', ports: String(etcdPeerPort), addresses: [], tags: [controlPlaneTag], purpose: 'etcd peers' } satisfies FirewallRule] : []),
    ],
    outbound: allOutbound,
  };
  if (stacked) return [masters];
  return [masters, {
    name: names.etcd,
    tags: [etcdTag],
    inbound: [ssh, etcdClients, { protocol: 'tcp', ports: String(etcdPeerPort), addresses: [], tags: [etcdTag], purpose: 'etcd peers' }],
    outbound: allOutbound,
  }];
}

/** One line per rule, for `plan` and messages: `in tcp 10250 from tag:k8s-worker (kubelet API)`. */
export function describeRule(direction: 'in' | 'out', r: Pick<FirewallRule, 'protocol' | 'ports' | 'addresses' | 'tags' | 'loadBalancers'> & { purpose?: string }): string {
  const who = [...r.addresses, ...r.tags.map((t) => `tag:${t}`), ...(r.loadBalancers ?? []).map((l) => `lb:${l}`)].join(', ') || 'nobody';
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

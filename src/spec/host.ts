// A worker host: its name and how to reach it. Providers report hosts; render, pki, phases and
// verify consume them. It sits beside the spec so that no layer needs providers/ to name a host.

/** What a host is for: absent means a worker (every host before the control-plane section). */
export type HostRole = 'control-plane' | 'etcd';

export interface Host {
  /** node name; for DigitalOcean the droplet name (`k8s-worker-{index}.{domain}`) */
  name: string;
  /** where SSH connects; undefined until a provider has created the host */
  address: string | undefined;
  port: number;
  user: string;
  publicAddress?: string | undefined;
  privateAddress?: string | undefined;
  /** control-plane or etcd host; undefined for a worker */
  role?: HostRole | undefined;
}

/** The hosts that run kubelet and kube-proxy. */
export function workerHosts(hosts: readonly Host[]): Host[] {
  return hosts.filter((h) => h.role === undefined);
}

/** The control-plane hosts (API server, controller-manager, scheduler). */
export function controlPlaneHosts(hosts: readonly Host[]): Host[] {
  return hosts.filter((h) => h.role === 'control-plane');
}

/**
 * The hosts that run an etcd member: the control-plane hosts when etcd is stacked on them (the
 * spec has no controlPlane.etcd), else the etcd hosts. Empty without a controlPlane section.
 */
export function etcdMemberHosts(cluster: { controlPlane?: { etcd: { placement: 'stacked' | 'external' } } | undefined }, hosts: readonly Host[]): Host[] {
  const placement = cluster.controlPlane?.etcd.placement;
  if (placement === undefined) return [];
  return hosts.filter((h) => h.role === (placement === 'stacked' ? 'control-plane' : 'etcd'));
}

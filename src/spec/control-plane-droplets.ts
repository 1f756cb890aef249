// The control plane on DigitalOcean as data (pure), shared by the provider (which creates it
// through the API) and the Terraform renderer (which describes it), so both make the same thing:
// one droplet pool per role (masters tagged k8s-master, etcd members tagged with the tag
// etcd-lookup searches) and, with more than one master, the API load balancer in front of them.
import { defaultEtcdTag, type Cluster } from './cluster.ts';
import type { HostRole } from './host.ts';

/** DigitalOcean droplet names of control-plane and etcd hosts, beside the post's `k8s-worker-{index}.{domain}`. */
export const controlPlaneNamePatterns = { 'control-plane': 'k8s-master-{index}.{domain}', etcd: 'k8s-etcd-{index}.{domain}' } as const;

/** The tag every control-plane droplet carries (tags[0] of its pool: listed and polled by it). */
export const controlPlaneTag = 'k8s-master';

export interface ControlPlaneDropletRole {
  role: HostRole;
  namePattern: string;
  /** tags[0] is the role's own tag */
  tags: string[];
  count: number;
}

/** The control plane's droplet pools: stacked masters carry the etcd tag too; external etcd is a pool of its own. */
export function controlPlaneDropletRoles(cluster: Cluster): ControlPlaneDropletRole[] {
  const cp = cluster.controlPlane;
  if (!cp) return [];
  const etcdTag = cluster.etcd.discovery.digitaloceanTag ?? defaultEtcdTag;
  const role = (r: HostRole, tags: string[], count: number): ControlPlaneDropletRole => ({ role: r, namePattern: controlPlaneNamePatterns[r], tags, count });
  if (cp.etcd.placement === 'stacked') return [role('control-plane', [controlPlaneTag, etcdTag], cp.count)];
  return [role('control-plane', [controlPlaneTag], cp.count), role('etcd', [etcdTag], cp.etcd.count)];
}

/** The API load balancer kubewright keeps on DigitalOcean: TCP 6443 to the masters by tag, TCP health check. */
export interface ApiLoadBalancerDesign {
  /** `kubewright-<cluster>-api`: how kubewright finds it again */
  name: string;
  region: string;
  /** the masters' tag: the balancer follows the droplets that carry it */
  dropletTag: string;
  vpcUuid?: string | undefined;
  /** TCP pass-through (TLS ends at kube-apiserver): the endpoint's port in, the masters' secure port out */
  entryPort: number;
  targetPort: number;
  healthCheck: { protocol: 'tcp'; port: number; checkIntervalSeconds: number; responseTimeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number };
  /** firewall.apiFrom when it is narrower than everywhere, as the balancer's own firewall spells it (`cidr:…`, `ip:…`): it admits only these (undefined: everyone) */
  allowFrom?: string[] | undefined;
}

/** kube-apiserver's --secure-port on the masters kubewright builds (render/control-plane's API_SERVER_PORT). */
export const masterApiPort = 6443;

export function apiLoadBalancerName(cluster: Pick<Cluster, 'name'>): string {
  return `kubewright-${cluster.name}-api`;
}

/**
 * The load balancer a DigitalOcean control plane needs: with more than one master, unless the
 * spec names the endpoint's address (a balancer of the user's own). A DNS name in the spec is
 * the user's record pointing at this balancer.
 */
export function apiLoadBalancerDesign(cluster: Cluster): ApiLoadBalancerDesign | undefined {
  const p = cluster.provider;
  const cp = cluster.controlPlane;
  if (p.kind !== 'digitalocean' || !cp || cp.count === 1) return undefined;
  // an address the spec gives (without a DNS name) is a balancer of the user's own
  if (cp.endpoint.source === 'spec' && cp.endpoint.address !== undefined && cp.endpoint.dnsName === undefined) return undefined;
  const apiFrom = p.firewall.enabled ? p.firewall.apiFrom : [];
  const world = apiFrom.length === 0 || apiFrom.includes('0.0.0.0/0');
  return {
    name: apiLoadBalancerName(cluster),
    region: p.region,
    dropletTag: controlPlaneTag,
    vpcUuid: p.vpcUuid ?? undefined,
    entryPort: cp.endpoint.port,
    targetPort: masterApiPort,
    healthCheck: { protocol: 'tcp', port: masterApiPort, checkIntervalSeconds: 10, responseTimeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 3 },
    ...(world ? {} : { allowFrom: apiFrom.map((a) => (a.includes('/') ? `cidr:${a}` : `ip:${a}`)) }),
  };
}

/**
 * The cluster once its API load balancer has an address: the endpoint carries the balancer's IP
 * (a SAN of the serving certificate), and `kubernetes.apiServer` is derived from it unless the
 * spec names the endpoint itself (a DNS name pointed at the balancer, or kubernetes.apiServer).
 */
export function withLoadBalancerEndpoint(cluster: Cluster, ip: string): Cluster {
  const cp = cluster.controlPlane;
  if (!cp) return cluster;
  const own = cp.endpoint.source === 'spec';
  const url = own ? cp.endpoint.url : `https://${ip}:${cp.endpoint.port}`;
  return {
    ...cluster,
    kubernetes: { ...cluster.kubernetes, apiServer: own ? cluster.kubernetes.apiServer : url },
    controlPlane: { ...cp, endpoint: { ...cp.endpoint, url, address: ip, source: own ? 'spec' : 'load-balancer' } },
  };
}

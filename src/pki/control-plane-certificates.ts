// The certificates the control plane needs, as cfssl CSR requests (pure: spec + masters in,
// requests out): kube-apiserver's serving certificate with every name it is reached by, its client
// certificates for the kubelets and etcd, the controller-manager and scheduler identities, and the
// front-proxy client the aggregation layer uses.
import { isIP } from 'node:net';
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';
import { cidrAddress } from '../spec/ipv4.ts';
import { clusterKeySpec, nodeHosts, subjectNames } from './cluster-certificates.ts';
import type { CsrRequest } from './csr-request.ts';

export type ControlPlaneSigner = 'cluster' | 'etcd' | 'front-proxy';

export interface ControlPlaneCertificate {
  /** cfssljson -bare name under the PKI directory */
  name: string;
  request: CsrRequest;
  signer: ControlPlaneSigner;
}

/** How clients reach the API: the load balancer's (or single master's) address and DNS name. */
export interface ApiEndpoint {
  address?: string | undefined;
  dnsName?: string | undefined;
}

/** The endpoint `kubernetes.apiServer` names: an IP address or a DNS name. */
export function endpointOfApiServer(apiServer: string): ApiEndpoint {
  const host = new URL(apiServer).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? { address: host } : { dnsName: host };
}

/** The in-cluster names of the API (the `kubernetes` Service), up to the cluster domain. */
export function kubernetesServiceNames(cluster: Cluster): string[] {
  return ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${cluster.kubernetes.clusterDomain}`];
}

/**
 * Every SAN of kube-apiserver's serving certificate: the endpoint's IP and DNS name, the
 * `kubernetes` Service IP (first address of serviceCIDR) and names, each master's name and public and
 * private addresses, and 127.0.0.1 (the controller-manager and scheduler on each master).
 */
export function apiserverHosts(cluster: Cluster, masters: readonly Host[], endpoint: ApiEndpoint): string[] {
  const all = [
    endpoint.dnsName,
    endpoint.address,
    ...kubernetesServiceNames(cluster),
    cidrAddress(cluster.kubernetes.serviceCIDR, 1),
    ...masters.flatMap(nodeHosts),
    '127.0.0.1',
  ];
  return [...new Set(all.filter((h): h is string => h !== undefined && h !== ''))];
}

/** The CN kube-apiserver presents to kubelets: the user the kubelet-API ClusterRoleBinding names. */
export const APISERVER_KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';
/** The CN the front-proxy client presents: kube-apiserver's --requestheader-allowed-names. */
export const FRONT_PROXY_CLIENT_CN = 'front-proxy-client';

export const controlPlaneCertNames = {
  apiserver: 'control-plane/kube-apiserver',
  apiserverKubeletClient: 'control-plane/apiserver-kubelet-client',
  apiserverEtcdClient: 'control-plane/apiserver-etcd-client',
  controllerManager: 'control-plane/kube-controller-manager',
  scheduler: 'control-plane/kube-scheduler',
  frontProxyClient: 'control-plane/front-proxy-client',
} as const;

export type ControlPlaneCertKey = keyof typeof controlPlaneCertNames;

export function controlPlaneCertificates(cluster: Cluster, masters: readonly Host[], endpoint: ApiEndpoint): Record<ControlPlaneCertKey, ControlPlaneCertificate> {
  const key = clusterKeySpec(cluster);
  const names = controlPlaneCertNames;
  return {
    apiserver: { name: names.apiserver, signer: 'cluster', request: { CN: 'kube-apiserver', hosts: apiserverHosts(cluster, masters, endpoint), key, names: subjectNames(cluster) } },
    apiserverKubeletClient: { name: names.apiserverKubeletClient, signer: 'cluster', request: { CN: APISERVER_KUBELET_CLIENT_CN, key, names: subjectNames(cluster) } },
    apiserverEtcdClient: { name: names.apiserverEtcdClient, signer: 'etcd', request: { CN: 'kube-apiserver-etcd-client', key, names: subjectNames(cluster) } },
    // the built-in RBAC roles bind these user names (system:kube-controller-manager, system:kube-scheduler)
    controllerManager: { name: names.controllerManager, signer: 'cluster', request: { CN: 'system:kube-controller-manager', key, names: subjectNames(cluster, 'system:kube-controller-manager') } },
    scheduler: { name: names.scheduler, signer: 'cluster', request: { CN: 'system:kube-scheduler', key, names: subjectNames(cluster, 'system:kube-scheduler') } },
    frontProxyClient: { name: names.frontProxyClient, signer: 'front-proxy', request: { CN: FRONT_PROXY_CLIENT_CN, key, names: subjectNames(cluster) } },
  };
}

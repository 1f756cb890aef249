// kube-apiserver, kube-controller-manager and kube-scheduler units. The seed profile keeps the
// flags of the post's time (Kubernetes The Hard Way, October 2017, 1.8) as long as the version has
// them; the modern profile renders kubeadm's current set and config files. Every flag goes through
// the version matrix: one a version removed is never rendered, one the matrix does not know throws.
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import {
  delegatedComponentAuth,
  encryptionConfigFormat,
  flagSupported,
  initializersAdmissionPlugin,
  serviceAccountIssuerRequired,
  type Component,
} from '../../spec/matrix.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { renderAuthenticationConfig, renderSchedulerConfig } from './config-files.ts';
import { advertiseAddress, type ControlPlaneRenderInput } from './input.ts';
import { API_SERVER_PORT, controlPlanePaths } from './paths.ts';

const supported = (component: Component, cluster: Cluster, args: (string | false | undefined)[]): string[] =>
  args.filter((a): a is string => typeof a === 'string').filter((a) => flagSupported(component, a, cluster.kubernetes.version));

/** The issuer of service-account tokens: the in-cluster name of the API, as kubeadm sets it. */
export function serviceAccountIssuer(cluster: Cluster): string {
  return `https://kubernetes.default.svc.${cluster.kubernetes.clusterDomain}`;
}

export function apiserverArgs(input: ControlPlaneRenderInput, master: Host): string[] {
  const { cluster } = input;
  const v = cluster.kubernetes.version;
  const p = controlPlanePaths[cluster.profile];
  const seed = cluster.profile === 'seed';
  const address = advertiseAddress(master);
  const encryption = encryptionConfigFormat(v);
  const requestHeader = [
    `--proxy-client-cert-file=${p.frontProxyClientCert}`,
    `--proxy-client-key-file=${p.frontProxyClientKey}`,
    '--requestheader-allowed-names=front-proxy-client',
    `--requestheader-client-ca-file=${p.frontProxyCa}`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
  ];
  // bound service-account tokens: required from 1.20, and left to the legacy tokens before (as the post's time)
  const serviceAccountSigning = serviceAccountIssuerRequired(v)
    ? [`--service-account-issuer=${serviceAccountIssuer(cluster)}`, `--service-account-signing-key-file=${p.serviceAccountPrivateKey}`]
    : [];
  const etcd = [
    `--etcd-cafile=${p.etcdCa}`,
    `--etcd-certfile=${p.apiserverEtcdClientCert}`,
    `--etcd-keyfile=${p.apiserverEtcdClientKey}`,
    `--etcd-servers=${input.etcdServers.join(',')}`,
  ];
  const kubelet = [
    `--kubelet-certificate-authority=${p.ca}`,
    `--kubelet-client-certificate=${p.apiserverKubeletClientCert}`,
    `--kubelet-client-key=${p.apiserverKubeletClientKey}`,
  ];
  if (seed) {
    // Kubernetes The Hard Way (1.8): Initializers went with 1.14 (the matrix), the rest are still in every release
    const admission = [...(initializersAdmissionPlugin(v) ? ['Initializers'] : []), 'NamespaceLifecycle', 'NodeRestriction', 'LimitRanger', 'ServiceAccount', 'DefaultStorageClass', 'ResourceQuota'];
    return supported('kube-apiserver', cluster, [
      `--admission-control=${admission.join(',')}`,
      address !== undefined && `--advertise-address=${address}`,
      '--allow-privileged=true',
      `--apiserver-count=${input.masters.length}`,
      '--audit-log-maxage=30',
      '--audit-log-maxbackup=3',
      '--audit-log-maxsize=100',
      `--audit-log-path=${p.auditLog}`,
      '--authorization-mode=Node,RBAC',
      '--bind-address=0.0.0.0',
      `--client-ca-file=${p.ca}`,
      ...etcd,
      '--event-ttl=1h',
      `${encryption.flag}=${p.encryptionConfig}`,
      ...kubelet,
      '--kubelet-https=true',
      ...requestHeader,
      `--service-account-key-file=${p.serviceAccountPublicKey}`,
      ...serviceAccountSigning,
      `--service-cluster-ip-range=${cluster.kubernetes.serviceCIDR.text}`,
      '--service-node-port-range=30000-32767',
      `--tls-cert-file=${p.apiserverCert}`,
      `--tls-private-key-file=${p.apiserverKey}`,
      '--v=2',
    ]);
  }
  return supported('kube-apiserver', cluster, [
    address !== undefined && `--advertise-address=${address}`,
    '--allow-privileged=true',
    renderAuthenticationConfig(v) !== undefined && `--authentication-config=${p.authenticationConfig}`,
    '--authorization-mode=Node,RBAC',
    '--bind-address=0.0.0.0',
    `--client-ca-file=${p.ca}`,
    '--enable-admission-plugins=NodeRestriction',
    `${encryption.flag}=${p.encryptionConfig}`,
    ...etcd,
    '--event-ttl=1h',
    ...kubelet,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    ...requestHeader,
    `--secure-port=${API_SERVER_PORT}`,
    ...serviceAccountSigning,
    `--service-account-key-file=${p.serviceAccountPublicKey}`,
    `--service-cluster-ip-range=${cluster.kubernetes.serviceCIDR.text}`,
    `--tls-cert-file=${p.apiserverCert}`,
    `--tls-private-key-file=${p.apiserverKey}`,
  ]);
}

export function controllerManagerArgs(cluster: Cluster): string[] {
  const p = controlPlanePaths[cluster.profile];
  const seed = cluster.profile === 'seed';
  const delegated = !seed && delegatedComponentAuth(cluster.kubernetes.version);
  return supported('kube-controller-manager', cluster, [
    delegated && `--authentication-kubeconfig=${p.controllerManagerKubeconfig}`,
    delegated && `--authorization-kubeconfig=${p.controllerManagerKubeconfig}`,
    delegated && '--bind-address=127.0.0.1',
    `--cluster-cidr=${cluster.kubernetes.podCIDR.text}`,
    `--cluster-name=${cluster.name}`,
    `--cluster-signing-cert-file=${p.ca}`,
    `--cluster-signing-key-file=${p.caKey}`,
    `--kubeconfig=${p.controllerManagerKubeconfig}`,
    '--leader-elect=true',
    delegated && `--requestheader-client-ca-file=${p.frontProxyCa}`,
    `--root-ca-file=${p.ca}`,
    `--service-account-private-key-file=${p.serviceAccountPrivateKey}`,
    `--service-cluster-ip-range=${cluster.kubernetes.serviceCIDR.text}`,
    '--use-service-account-credentials=true',
    seed && '--v=2',
  ]);
}

export function schedulerArgs(cluster: Cluster): string[] {
  const p = controlPlanePaths[cluster.profile];
  if (cluster.profile === 'seed') {
    return supported('kube-scheduler', cluster, [`--kubeconfig=${p.schedulerKubeconfig}`, '--leader-elect=true', '--v=2']);
  }
  const delegated = delegatedComponentAuth(cluster.kubernetes.version);
  const config = renderSchedulerConfig(cluster.kubernetes.version, p.schedulerKubeconfig) !== undefined;
  return supported('kube-scheduler', cluster, [
    delegated && `--authentication-kubeconfig=${p.schedulerKubeconfig}`,
    delegated && `--authorization-kubeconfig=${p.schedulerKubeconfig}`,
    delegated && '--bind-address=127.0.0.1',
    // with --config, the kubeconfig and leader election come from KubeSchedulerConfiguration
    config && `--config=${p.schedulerConfig}`,
    !config && `--kubeconfig=${p.schedulerKubeconfig}`,
    !config && '--leader-elect=true',
  ]);
}

function unit(description: string, documentation: string, binary: string, args: string[], after: string): string {
  return renderServiceUnit({
    unit: [['Description', description], ['Documentation', documentation], ['After', after], ['Wants', 'network-online.target']],
    service: [['ExecStart', execCommand(binary, args)]],
    restart: { policy: 'on-failure', sec: 5 },
  });
}

export function renderApiserverUnit(input: ControlPlaneRenderInput, master: Host): string {
  const p = controlPlanePaths[input.cluster.profile];
  return unit('Kubernetes API Server', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/', p.apiserverBinary, apiserverArgs(input, master), 'network-online.target');
}

export function renderControllerManagerUnit(cluster: Cluster): string {
  const p = controlPlanePaths[cluster.profile];
  return unit('Kubernetes Controller Manager', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/', p.controllerManagerBinary, controllerManagerArgs(cluster), 'network-online.target kube-apiserver.service');
}

export function renderSchedulerUnit(cluster: Cluster): string {
  const p = controlPlanePaths[cluster.profile];
  return unit('Kubernetes Scheduler', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/', p.schedulerBinary, schedulerArgs(cluster), 'network-online.target kube-apiserver.service');
}

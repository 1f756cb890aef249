// Which kubelet / kube-proxy flags (and config fields) exist in which Kubernetes minor (facts in
// DESIGN.md, sources in comments). Every renderer asks this before emitting a flag; a flag that is
// not in the table is a programming error (add it here with its source), never silently rendered.
import { compareMinor, type KubeVersion } from './version.ts';

export type Component = 'kubelet' | 'kube-proxy' | 'flanneld' | 'dockerd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export interface Minor {
  major: number;
  minor: number;
}

export interface FlagFact {
  component: Component;
  flag: string;
  /** first minor that has the flag; undefined = present in every minor kubewright supports (≥ 1.8) */
  since?: Minor;
  /** first minor that no longer has it */
  removedIn?: Minor;
  /** where the fact comes from */
  source: string;
}

/** Oldest and newest Kubernetes minors kubewright renders for (the post's 1.8 … current). */
export const OLDEST_MINOR: Minor = { major: 1, minor: 8 };
export const CURRENT_MINOR: Minor = { major: 1, minor: 36 };

const m = (minor: number): Minor => ({ major: 1, minor });
const always = (component: Component, flags: string[], source: string): FlagFact[] => flags.map((flag) => ({ component, flag, source }));

const DOCKERSHIM = 'dockershim removal, KEP-2221, CHANGELOG-1.24 "Kubelet: removed the dockershim and its flags"';

export const FLAG_FACTS: readonly FlagFact[] = [
  // --allow-privileged was removed in Kubernetes 1.15 (CHANGELOG-1.15, kubernetes/kubernetes#77820)
  { component: 'kubelet', flag: '--allow-privileged', removedIn: m(15), source: 'CHANGELOG-1.15, kubernetes#77820' },
  // the dockershim flags went with dockershim in 1.24
  { component: 'kubelet', flag: '--docker-endpoint', removedIn: m(24), source: DOCKERSHIM },
  { component: 'kubelet', flag: '--network-plugin', removedIn: m(24), source: DOCKERSHIM },
  { component: 'kubelet', flag: '--network-plugin-mtu', removedIn: m(24), source: DOCKERSHIM },
  { component: 'kubelet', flag: '--cni-conf-dir', removedIn: m(24), source: DOCKERSHIM },
  { component: 'kubelet', flag: '--cni-bin-dir', removedIn: m(24), source: DOCKERSHIM },
  { component: 'kubelet', flag: '--cni-cache-dir', since: m(16), removedIn: m(24), source: DOCKERSHIM },
  // --container-runtime was removed in 1.27 (only "remote" was left after 1.24; CHANGELOG-1.27, kubernetes#114017)
  { component: 'kubelet', flag: '--container-runtime', removedIn: m(27), source: 'CHANGELOG-1.27, kubernetes#114017' },
  // --config (KubeletConfiguration kubelet.config.k8s.io/v1beta1) arrived in 1.10 (CHANGELOG-1.10)
  { component: 'kubelet', flag: '--config', since: m(10), source: 'CHANGELOG-1.10, KubeletConfiguration v1beta1' },
  // deprecated in favour of --config but still present in every minor up to current
  ...always('kubelet', [
    '--cert-dir', '--cluster-dns', '--cluster-domain', '--hostname-override', '--kubeconfig', '--node-ip',
    '--container-runtime-endpoint', '--register-node', '--node-labels', '--root-dir', '--v',
  ], 'kubelet --help, 1.8 … 1.36'),
  // kube-proxy: --config (KubeProxyConfiguration kubeproxy.config.k8s.io/v1alpha1) from 1.10
  { component: 'kube-proxy', flag: '--config', since: m(10), source: 'CHANGELOG-1.10, KubeProxyConfiguration v1alpha1' },
  ...always('kube-proxy', ['--kubeconfig', '--proxy-mode', '--hostname-override', '--cluster-cidr', '--v'], 'kube-proxy --help, 1.8 … 1.36'),
  // flanneld and dockerd flags don't depend on the Kubernetes minor (docker itself is refused for ≥ 1.24 by the spec)
  ...always('flanneld', [
    '-etcd-endpoints', '-etcd-prefix', '-etcd-cafile', '-etcd-certfile', '-etcd-keyfile', '-ip-masq', '-iface',
    '-public-ip', '-subnet-file',
  ], 'flanneld --help, v0.9.0 … v0.27'),
  ...always('dockerd', ['--iptables', '--ip-masq', '--host', '--storage-driver', '--bip', '--mtu'], 'dockerd --help, 17.03'),

  // kube-apiserver (control plane): the post series' 1.8-era flags (Kubernetes The Hard Way, Oct 2017) and the modern ones
  ...always('kube-apiserver', [
    '--admission-control', '--advertise-address', '--allow-privileged', '--apiserver-count', '--audit-log-maxage',
    '--audit-log-maxbackup', '--audit-log-maxsize', '--audit-log-path', '--authorization-mode', '--bind-address',
    '--client-ca-file', '--etcd-cafile', '--etcd-certfile', '--etcd-keyfile', '--etcd-servers', '--event-ttl',
    '--kubelet-certificate-authority', '--kubelet-client-certificate', '--kubelet-client-key', '--kubelet-preferred-address-types',
    '--proxy-client-cert-file', '--proxy-client-key-file', '--requestheader-allowed-names', '--requestheader-client-ca-file',
    '--requestheader-extra-headers-prefix', '--requestheader-group-headers', '--requestheader-username-headers',
    '--secure-port', '--service-account-key-file', '--service-cluster-ip-range', '--service-node-port-range',
    '--tls-cert-file', '--tls-private-key-file', '--v',
  ], 'kube-apiserver --help, 1.8 … 1.36'),
  // --encryption-provider-config replaced --experimental-encryption-provider-config in 1.13; the old name was removed in 1.14 (kubernetes#71206)
  { component: 'kube-apiserver', flag: '--experimental-encryption-provider-config', removedIn: m(14), source: 'CHANGELOG-1.13 deprecations, kubernetes#71206' },
  { component: 'kube-apiserver', flag: '--encryption-provider-config', since: m(13), source: 'CHANGELOG-1.13, kubernetes#71206' },
  // apiserver→kubelet always uses https since 1.19; the flag was removed in 1.22 (kubernetes#91630, kubernetes#101178)
  { component: 'kube-apiserver', flag: '--kubelet-https', removedIn: m(22), source: 'CHANGELOG-1.22, kubernetes#101178' },
  { component: 'kube-apiserver', flag: '--enable-admission-plugins', since: m(10), source: 'CHANGELOG-1.10, kubernetes#58123' },
  { component: 'kube-apiserver', flag: '--service-account-issuer', since: m(10), source: 'kube-apiserver --help 1.10 (TokenRequest)' },
  { component: 'kube-apiserver', flag: '--service-account-signing-key-file', since: m(10), source: 'kube-apiserver --help 1.10 (TokenRequest)' },
  // structured authentication configuration (KEP-3331): --authentication-config from 1.29
  { component: 'kube-apiserver', flag: '--authentication-config', since: m(29), source: 'CHANGELOG-1.29, KEP-3331' },
  // kube-controller-manager
  ...always('kube-controller-manager', [
    '--cluster-cidr', '--cluster-name', '--cluster-signing-cert-file', '--cluster-signing-key-file', '--kubeconfig',
    '--leader-elect', '--root-ca-file', '--service-account-private-key-file', '--service-cluster-ip-range',
    '--use-service-account-credentials', '--v',
  ], 'kube-controller-manager --help, 1.8 … 1.36'),
  // secure serving with delegated authentication/authorization: in 1.13 (kubeadm#1285 shows v1.13.0-rc.1 asking for them)
  ...(['--authentication-kubeconfig', '--authorization-kubeconfig', '--bind-address', '--requestheader-client-ca-file'] as const).map(
    (flag): FlagFact => ({ component: 'kube-controller-manager', flag, since: m(13), source: 'kube-controller-manager --help 1.13, kubeadm#1285' }),
  ),
  // kube-scheduler: --config takes KubeSchedulerConfiguration (kubescheduler.config.k8s.io from 1.12)
  ...always('kube-scheduler', ['--kubeconfig', '--leader-elect', '--config', '--v'], 'kube-scheduler --help, 1.8 … 1.36'),
  ...(['--authentication-kubeconfig', '--authorization-kubeconfig', '--bind-address'] as const).map(
    (flag): FlagFact => ({ component: 'kube-scheduler', flag, since: m(13), source: 'kube-scheduler --help 1.13, kubeadm#1285' }),
  ),
];

const byKey = new Map(FLAG_FACTS.map((f) => [`${f.component} ${f.flag}`, f]));

function flagName(flag: string): string {
  // accept `--flag=value` as well as `--flag`
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : flag.slice(0, eq);
}

export function flagFact(component: Component, flag: string): FlagFact | undefined {
  return byKey.get(`${component} ${flagName(flag)}`);
}

function inRange(fact: { since?: Minor; removedIn?: Minor }, version: Minor): boolean {
  if (fact.since && compareMinor(version, fact.since) < 0) return false;
  if (fact.removedIn && compareMinor(version, fact.removedIn) >= 0) return false;
  return true;
}

/**
 * Whether `component` accepts `flag` (with or without `=value`) in Kubernetes `version`. Throws for
 * a flag the table does not know, so no renderer emits a flag nobody checked.
 */
export function flagSupported(component: Component, flag: string, version: KubeVersion | Minor): boolean {
  const fact = flagFact(component, flag);
  if (!fact) {
    throw new Error(`version matrix: ${component} flag ${flagName(flag)} is not in FLAG_FACTS — add it to src/spec/matrix.ts with its source`);
  }
  return inRange(fact, version);
}

/** The flags of `component` that `version` no longer has (for tests and plan warnings). */
export function removedFlags(component: Component, version: KubeVersion | Minor): string[] {
  return FLAG_FACTS.filter((f) => f.component === component && f.removedIn && compareMinor(version, f.removedIn) >= 0).map((f) => f.flag);
}

export type ConfigKind = 'KubeletConfiguration' | 'KubeProxyConfiguration';

export interface ConfigFieldFact {
  kind: ConfigKind;
  field: string;
  since?: Minor;
  removedIn?: Minor;
  source: string;
}

export const CONFIG_FIELD_FACTS: readonly ConfigFieldFact[] = [
  // containerRuntimeEndpoint moved from the flag into KubeletConfiguration in 1.27 (CHANGELOG-1.27)
  { kind: 'KubeletConfiguration', field: 'containerRuntimeEndpoint', since: m(27), source: 'CHANGELOG-1.27, kubernetes#112136' },
  { kind: 'KubeletConfiguration', field: 'cgroupDriver', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeletConfiguration', field: 'clusterDNS', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeletConfiguration', field: 'clusterDomain', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeletConfiguration', field: 'authentication', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeletConfiguration', field: 'tlsCertFile', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeletConfiguration', field: 'tlsPrivateKeyFile', since: m(10), source: 'KubeletConfiguration v1beta1 (1.10)' },
  { kind: 'KubeProxyConfiguration', field: 'mode', since: m(10), source: 'KubeProxyConfiguration v1alpha1 (1.10)' },
  { kind: 'KubeProxyConfiguration', field: 'clusterCIDR', since: m(10), source: 'KubeProxyConfiguration v1alpha1 (1.10)' },
];

export function configFieldSupported(kind: ConfigKind, field: string, version: KubeVersion | Minor): boolean {
  const fact = CONFIG_FIELD_FACTS.find((f) => f.kind === kind && f.field === field);
  if (!fact) throw new Error(`version matrix: ${kind}.${field} is not in CONFIG_FIELD_FACTS — add it to src/spec/matrix.ts with its source`);
  return inRange(fact, version);
}

/** The config with the fields the matrix knows and the version lacks left out (key order kept). */
export function supportedFields(kind: ConfigKind, version: KubeVersion | Minor, config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([field]) => {
    const fact = CONFIG_FIELD_FACTS.find((f) => f.kind === kind && f.field === field);
    return !fact || inRange(fact, version);
  }));
}

export type ProxyMode = 'iptables' | 'nftables' | 'ipvs';

/** kube-proxy modes by minor: nftables went GA in 1.33 (KEP-3866); iptables and ipvs exist throughout. */
export function proxyModeSupported(mode: ProxyMode, version: KubeVersion | Minor): boolean {
  return mode !== 'nftables' || compareMinor(version, m(33)) >= 0;
}

// Version rules other than flags and config fields. Every comparison of a Kubernetes minor that
// changes what kubewright renders, validates or checks lives below, one function per fact.

/** KubeletConfiguration / KubeProxyConfiguration files (--config) arrived in 1.10: the modern profile's floor. */
export function configFilesSupported(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(10)) >= 0;
}

/** The kubelet's built-in docker shim, removed in 1.24 (KEP-2221); CRI runtimes needed --container-runtime=remote before. */
export function builtInDockershim(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(24)) < 0;
}

/**
 * The apiVersion of the DNS add-on's Deployment, for render and verify alike. CoreDNS (modern
 * profile, ≥ 1.10) is apps/v1 (GA in 1.9). kube-dns keeps the post's extensions/v1beta1 while the
 * cluster serves it: Deployments stopped being served from extensions/v1beta1 in 1.16 (CHANGELOG-1.16).
 */
export function dnsDeploymentApiVersion(dns: 'kube-dns' | 'coredns', version: KubeVersion | Minor): string {
  if (dns === 'coredns') return 'apps/v1';
  return compareMinor(version, m(16)) >= 0 ? 'apps/v1' : 'extensions/v1beta1';
}

/**
 * How the kubelet of a minor stands to the host's cgroup version: cgroup v2 support went GA in 1.25
 * (KEP-2254); from 1.35 the kubelet refuses to start on cgroup v1 (failCgroupV1 defaults to true,
 * KEP-5573; 1.31 put v1 into maintenance mode).
 */
export function cgroupSupport(version: KubeVersion | Minor): { v1: 'ok' | 'maintenance' | 'refused'; v2: 'ok' | 'unsupported' } {
  const v1 = compareMinor(version, m(35)) >= 0 ? 'refused' : compareMinor(version, m(31)) >= 0 ? 'maintenance' : 'ok';
  return { v1, v2: compareMinor(version, m(25)) >= 0 ? 'ok' : 'unsupported' };
}

/**
 * Swap on a node: the kubelet refuses to start with swap on (failSwapOn, default true) unless it is
 * configured for it; NodeSwap (LimitedSwap, cgroup v2 only) is beta from 1.28 and GA from 1.34
 * (KEP-2400). kubewright keeps failSwapOn's default, so swap is refused on every minor.
 */
export function nodeSwapGa(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(34)) >= 0;
}

/** /readyz exists from 1.16; the post's 1.8 answers /healthz (and `kubectl get cs`). */
export function readyzSupported(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(16)) >= 0;
}

// the pod sandbox ("pause") image as kubeadm pins it per release (cmd/kubeadm/app/constants PauseVersion)
const PAUSE_TAGS: [since: number, tag: string][] = [
  [34, '3.10.1'],
  [31, '3.10'],
  [26, '3.9'],
  [25, '3.8'],
  [24, '3.7'],
  [23, '3.6'],
  [21, '3.5'],
  [18, '3.2'],
  [0, '3.1'],
];

export function pauseImage(version: KubeVersion | Minor): string {
  const tag = PAUSE_TAGS.find(([minor]) => compareMinor(version, m(minor)) >= 0)?.[1] ?? '3.1';
  return `registry.k8s.io/pause:${tag}`;
}

/**
 * How many minors older than kube-apiserver a kubelet may be: three when the API server is 1.28 or
 * newer, two before (Kubernetes version skew policy, https://kubernetes.io/releases/version-skew-policy/#kubelet;
 * extended from n-2 to n-3 in 1.28 by KEP-3935). A kubelet newer than the API server is never supported.
 */
export function kubeletMaxMinorsBehind(apiServer: KubeVersion | Minor): number {
  return compareMinor(apiServer, m(28)) >= 0 ? 3 : 2;
}

/** Why a kubelet of `kubelet`'s minor may not talk to an API server of `apiServer`'s minor, or undefined when the policy allows it. */
export function kubeletSkewProblem(apiServer: KubeVersion | Minor, kubelet: KubeVersion | Minor): string | undefined {
  if (apiServer.major !== kubelet.major) return `major versions differ (${kubelet.major} vs ${apiServer.major})`;
  const behind = compareMinor(apiServer, kubelet);
  if (behind < 0) return 'a kubelet may not be newer than the API server';
  const max = kubeletMaxMinorsBehind(apiServer);
  if (behind > max) return `a kubelet may be at most ${max} minor versions older than an API server of ${apiServer.major}.${apiServer.minor} (it is ${behind})`;
  return undefined;
}

/** flannel speaks the etcd v2 API up to v0.17 and v3 from v0.18.0 (flannel v0.18.0 release notes). */
export function flannelEtcdApi(flannelVersion: Minor | undefined): 'v2' | 'v3' {
  return flannelVersion && compareMinor(flannelVersion, { major: 0, minor: 18 }) < 0 ? 'v2' : 'v3';
}

/** Every minor from 1.8 to current, for table-driven tests. */
export function allMinors(): Minor[] {
  return Array.from({ length: CURRENT_MINOR.minor - OLDEST_MINOR.minor + 1 }, (_, i) => m(OLDEST_MINOR.minor + i));
}

// Control-plane facts (kube-apiserver, kube-controller-manager, kube-scheduler).

/** The Initializers admission plugin (alpha, 1.7) was removed in 1.14 (CHANGELOG-1.14, kubernetes#72972). */
export function initializersAdmissionPlugin(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(14)) < 0;
}

/**
 * Secrets at rest: the flag and the file's apiVersion/kind. Before 1.13 the alpha flag read
 * `kind: EncryptionConfig, apiVersion: v1`; 1.13 moved both to apiserver.config.k8s.io/v1 (kubernetes#67383, kubernetes#71206).
 */
export function encryptionConfigFormat(version: KubeVersion | Minor): { flag: string; apiVersion: string; kind: string } {
  return compareMinor(version, m(13)) >= 0
    ? { flag: '--encryption-provider-config', apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration' }
    : { flag: '--experimental-encryption-provider-config', apiVersion: 'v1', kind: 'EncryptionConfig' };
}

/** --service-account-issuer and --service-account-signing-key-file are required from 1.20 (CHANGELOG-1.20, TokenRequest GA). */
export function serviceAccountIssuerRequired(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(20)) >= 0;
}

/** kube-controller-manager and kube-scheduler serve securely with delegated authn/authz from 1.13. */
export function delegatedComponentAuth(version: KubeVersion | Minor): boolean {
  return compareMinor(version, m(13)) >= 0;
}

/**
 * Where each control-plane component answers its health check on its own host. From 1.13 the
 * controller-manager and the scheduler serve HTTPS on 10257/10259 (self-signed unless given a
 * certificate; /healthz is always allowed anonymously); before, only their insecure HTTP ports
 * 10252/10251 did (kubernetes#64149, #69663). kube-apiserver answers /readyz from 1.16, /healthz before.
 */
export function controlPlaneHealthUrls(version: KubeVersion | Minor, apiServerPort: number): { component: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler'; url: string }[] {
  const secure = compareMinor(version, m(13)) >= 0;
  return [
    { component: 'kube-apiserver', url: `https://127.0.0.1:${apiServerPort}${readyzSupported(version) ? '/readyz' : '/healthz'}` },
    { component: 'kube-controller-manager', url: secure ? 'https://127.0.0.1:10257/healthz' : 'http://127.0.0.1:10252/healthz' },
    { component: 'kube-scheduler', url: secure ? 'https://127.0.0.1:10259/healthz' : 'http://127.0.0.1:10251/healthz' },
  ];
}

/**
 * KubeSchedulerConfiguration's apiVersion per minor (kubernetes/kube-scheduler config/ at each
 * release tag, componentconfig before 1.12); undefined before 1.10, where the scheduler takes flags.
 */
export function schedulerConfigApiVersion(version: KubeVersion | Minor): string | undefined {
  const table: [since: number, apiVersion: string][] = [
    [25, 'kubescheduler.config.k8s.io/v1'],
    [23, 'kubescheduler.config.k8s.io/v1beta3'],
    [22, 'kubescheduler.config.k8s.io/v1beta2'],
    [19, 'kubescheduler.config.k8s.io/v1beta1'],
    [12, 'kubescheduler.config.k8s.io/v1alpha1'],
    // 1.10 introduced the file in the componentconfig group; 1.12 moved it (and warned about the old group)
    [10, 'componentconfig/v1alpha1'],
  ];
  return table.find(([since]) => compareMinor(version, m(since)) >= 0)?.[1];
}

/**
 * AuthenticationConfiguration (--authentication-config) with anonymous access confined to the
 * health endpoints: the anonymous field is beta (on by default) in 1.32 and GA with apiserver.config.k8s.io/v1
 * in 1.34 (KEP-4633); undefined before 1.32, where kubewright leaves anonymous auth at its default.
 */
export function authenticationConfigApiVersion(version: KubeVersion | Minor): string | undefined {
  if (compareMinor(version, m(34)) >= 0) return 'apiserver.config.k8s.io/v1';
  if (compareMinor(version, m(32)) >= 0) return 'apiserver.config.k8s.io/v1beta1';
  return undefined;
}

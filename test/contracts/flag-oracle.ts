// The version oracle: which kubelet / kube-proxy / control-plane command-line flags (and config-file API
// versions) exist, and which are deprecated, in each Kubernetes minor — written from the
// upstream record (CHANGELOG lines, the PRs that removed or deprecated them), independently of
// src/spec/matrix.ts, which the renderers consult. Tests check rendered units against this table.

export type OracleComponent = 'kubelet' | 'kube-proxy' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export interface FlagRecord {
  component: OracleComponent;
  flag: string;
  /** first minor with the flag (in the meaning kubewright uses it); absent: present in 1.8 already.
   * Only flags kubewright renders (or must never render) are listed: an unlisted flag is refused. */
  since?: number;
  /** first minor whose binary refuses the flag ("unknown flag") */
  removedIn?: number;
  /** first minor whose --help marks it DEPRECATED (still accepted) */
  deprecatedIn?: number;
  /** the upstream record of each fact */
  ref: string;
}

const DOCKERSHIM_FLAGS =
  'kubernetes#106907 (CHANGELOG-1.24: "kubelet: following dockershim related flags are also removed along with dockershim: --experimental-dockershim-root-directory, --docker-endpoint, --image-pull-progress-deadline, --network-plugin, --cni-conf-dir, --cni-bin-dir, --cni-cache-dir, --network-plugin-mtu")';
const CONFIG_FILE_DEPRECATION = 'kubelet --help since 1.10: "DEPRECATED: This parameter should be set via the config file specified by the Kubelet\'s --config flag" (KubeletConfiguration v1beta1 beta in 1.10, kubernetes#60314)';

export const FLAG_RECORDS: readonly FlagRecord[] = [
  // kubelet
  { component: 'kubelet', flag: '--allow-privileged', deprecatedIn: 13, removedIn: 15, ref: 'deprecated by kubernetes#63442 (defaults to true); CHANGELOG-1.15 Node: "The deprecated Kubelet flag --allow-privileged has been removed" (kubernetes#77820)' },
  { component: 'kubelet', flag: '--docker-endpoint', removedIn: 24, ref: DOCKERSHIM_FLAGS },
  { component: 'kubelet', flag: '--network-plugin', removedIn: 24, ref: DOCKERSHIM_FLAGS },
  { component: 'kubelet', flag: '--cni-conf-dir', removedIn: 24, ref: DOCKERSHIM_FLAGS },
  { component: 'kubelet', flag: '--cni-bin-dir', removedIn: 24, ref: DOCKERSHIM_FLAGS },
  { component: 'kubelet', flag: '--container-runtime', deprecatedIn: 24, removedIn: 27, ref: 'kubelet 1.24 --help: "DEPRECATED: will be removed in 1.27 as the only valid value is \'remote\'" (kubernetes/website#34799); CHANGELOG-1.27: "kubelet: remove deprecated flag --container-runtime" (kubernetes#114017)' },
  { component: 'kubelet', flag: '--container-runtime-endpoint', deprecatedIn: 27, ref: 'moved into KubeletConfiguration.containerRuntimeEndpoint for 1.27 (kubernetes#112136); from 1.27 the flag warns "should be set via the config file" (kubernetes/website#43935)' },
  // --config meant the static pod path until KubeletConfiguration files went beta in 1.10
  { component: 'kubelet', flag: '--config', since: 10, ref: 'before 1.10 a deprecated alias of --pod-manifest-path (kubernetes#29999); a KubeletConfiguration v1beta1 file from 1.10 (kubernetes#60314: "the Kubelet\'s config API will be beta in 1.10")' },
  { component: 'kubelet', flag: '--cluster-dns', deprecatedIn: 10, ref: CONFIG_FILE_DEPRECATION },
  { component: 'kubelet', flag: '--cluster-domain', deprecatedIn: 10, ref: CONFIG_FILE_DEPRECATION },
  { component: 'kubelet', flag: '--pod-manifest-path', deprecatedIn: 10, ref: `${CONFIG_FILE_DEPRECATION}; kubernetes#70745 shows the warning` },
  { component: 'kubelet', flag: '--cert-dir', ref: 'kubelet --help 1.8 … current (not in KubeletConfiguration: an instance-specific flag, kubernetes#61647)' },
  { component: 'kubelet', flag: '--kubeconfig', ref: 'kubelet --help 1.8 … current (instance-specific, kubernetes#61647)' },
  { component: 'kubelet', flag: '--hostname-override', ref: 'kubelet --help 1.8 … current (instance-specific, kubernetes#61647)' },
  { component: 'kubelet', flag: '--node-ip', ref: 'kubelet --help 1.8 … current (instance-specific, kubernetes#61647)' },
  // kube-proxy
  { component: 'kube-proxy', flag: '--config', ref: 'kube-proxy reads a config file from 1.7 (history in kubernetes#55234)' },
  { component: 'kube-proxy', flag: '--kubeconfig', ref: 'kube-proxy --help 1.8 … current' },
  { component: 'kube-proxy', flag: '--proxy-mode', ref: 'kube-proxy --help 1.8 … current' },
  { component: 'kube-proxy', flag: '--hostname-override', ref: 'kube-proxy --help 1.8 … current' },
  { component: 'kube-proxy', flag: '--cluster-cidr', ref: 'kube-proxy --help 1.8 … current' },
  // kube-apiserver
  { component: 'kube-apiserver', flag: '--admission-control', deprecatedIn: 10, ref: 'CHANGELOG-1.10: "--admission-control is deprecated in favor of --enable-admission-plugins and --disable-admission-plugins" (kubernetes#58123)' },
  { component: 'kube-apiserver', flag: '--enable-admission-plugins', since: 10, ref: 'added with the deprecation of --admission-control, CHANGELOG-1.10 (kubernetes#58123)' },
  { component: 'kube-apiserver', flag: '--experimental-encryption-provider-config', deprecatedIn: 13, removedIn: 14, ref: 'CHANGELOG-1.13 deprecations: "The --experimental-encryption-provider-config flag is deprecated in favor of --encryption-provider-config. The old flag is accepted with a warning but will be removed in 1.14" (kubernetes#71206)' },
  { component: 'kube-apiserver', flag: '--encryption-provider-config', since: 13, ref: 'CHANGELOG-1.13 (kubernetes#71206)' },
  { component: 'kube-apiserver', flag: '--kubelet-https', deprecatedIn: 19, removedIn: 22, ref: 'deprecated by kubernetes#91630 (CHANGELOG-1.19); removed by kubernetes#101178 ("kube-apiserver: the deprecated --kubelet-https flag is removed", 1.22)' },
  { component: 'kube-apiserver', flag: '--insecure-bind-address', deprecatedIn: 10, removedIn: 24, ref: 'deprecated by kubernetes#59018 (1.10); inert from 1.20 and removed in 1.24 (kubernetes#95856: "will be removed in v1.24")' },
  { component: 'kube-apiserver', flag: '--insecure-port', deprecatedIn: 10, removedIn: 24, ref: 'deprecated by kubernetes#59018 (1.10); only 0 allowed from 1.20, removed in 1.24 (kubernetes#95856)' },
  { component: 'kube-apiserver', flag: '--authentication-config', since: 29, ref: 'structured authentication configuration, alpha in 1.29 and beta (on by default) in 1.30 (KEP-3331, CHANGELOG-1.29)' },
  { component: 'kube-apiserver', flag: '--service-account-issuer', since: 10, ref: 'kube-apiserver --help 1.10 … current (TokenRequest); required from 1.20 (CHANGELOG-1.20)' },
  { component: 'kube-apiserver', flag: '--service-account-signing-key-file', since: 10, ref: 'kube-apiserver --help 1.10 … current (TokenRequest); required from 1.20 (CHANGELOG-1.20)' },
  ...([
    '--advertise-address', '--allow-privileged', '--audit-log-maxage', '--audit-log-maxbackup', '--audit-log-maxsize', '--audit-log-path',
    '--authorization-mode', '--bind-address', '--client-ca-file', '--etcd-cafile', '--etcd-certfile', '--etcd-keyfile', '--etcd-servers',
    '--event-ttl', '--kubelet-certificate-authority', '--kubelet-client-certificate', '--kubelet-client-key', '--kubelet-preferred-address-types',
    '--proxy-client-cert-file', '--proxy-client-key-file', '--requestheader-allowed-names', '--requestheader-client-ca-file',
    '--requestheader-extra-headers-prefix', '--requestheader-group-headers', '--requestheader-username-headers', '--secure-port',
    '--service-account-key-file', '--service-cluster-ip-range', '--service-node-port-range', '--tls-cert-file', '--tls-private-key-file', '--v',
  ].map((flag): FlagRecord => ({ component: 'kube-apiserver', flag, ref: 'kube-apiserver --help 1.8 … current (the aggregation layer\'s --requestheader-*/--proxy-client-* since 1.7)' }))),
  // --apiserver-count matters to the master-count endpoint reconciler of the post's time; the seed profile renders it up to 1.23 only
  { component: 'kube-apiserver', flag: '--apiserver-count', ref: 'kube-apiserver --help 1.8 … 1.23' },
  // kube-controller-manager
  { component: 'kube-controller-manager', flag: '--address', deprecatedIn: 10, removedIn: 24, ref: 'insecure serving: inert since 1.20, removed in 1.24 (CHANGELOG-1.24: "The insecure address flags --address and --port in kube-controller-manager have had no effect since v1.20 and are removed in v1.24")' },
  ...(['--authentication-kubeconfig', '--authorization-kubeconfig', '--bind-address', '--requestheader-client-ca-file'].map(
    (flag): FlagRecord => ({ component: 'kube-controller-manager', flag, since: 13, ref: 'secure serving with delegated authentication: v1.13.0-rc.1 serves on :10257 and asks for --authentication-kubeconfig (kubernetes/kubeadm#1285)' }),
  )),
  ...([
    '--cluster-cidr', '--cluster-name', '--cluster-signing-cert-file', '--cluster-signing-key-file', '--kubeconfig', '--leader-elect',
    '--root-ca-file', '--service-account-private-key-file', '--service-cluster-ip-range', '--use-service-account-credentials', '--v',
  ].map((flag): FlagRecord => ({ component: 'kube-controller-manager', flag, ref: 'kube-controller-manager --help 1.8 … current' }))),
  // kube-scheduler
  { component: 'kube-scheduler', flag: '--config', since: 10, ref: 'kube-scheduler --help 1.10 … current: KubeSchedulerConfiguration (componentconfig/v1alpha1) from 1.10, kubescheduler.config.k8s.io from 1.12 (kubernetes/kube-scheduler config/ at each tag)' },
  // the first minor that prints the deprecation is not pinned down here: counted from 1.10, when --config arrived (conservative for the modern profile, which then never renders it)
  { component: 'kube-scheduler', flag: '--kubeconfig', deprecatedIn: 10, ref: 'kube-scheduler --help (kubernetes/website kube-scheduler.md): "DEPRECATED: path to kubeconfig file with authorization and master location information. This parameter is ignored if a config file is specified in --config"' },
  { component: 'kube-scheduler', flag: '--leader-elect', ref: 'kube-scheduler --help 1.8 … current (leader election flags)' },
  { component: 'kube-scheduler', flag: '--v', ref: 'kube-scheduler --help 1.8 … current' },
  ...(['--authentication-kubeconfig', '--authorization-kubeconfig', '--bind-address'].map(
    (flag): FlagRecord => ({ component: 'kube-scheduler', flag, since: 13, ref: 'v1.13.0-rc.1 warns "No authentication-kubeconfig provided" (kubernetes/kubeadm#1285); kubeadm passes both from kubernetes#80951' }),
  )),
];

export interface ConfigApiRecord {
  component: OracleComponent;
  apiVersion: string;
  since: number;
  ref: string;
}

export const CONFIG_API_RECORDS: readonly ConfigApiRecord[] = [
  { component: 'kubelet', apiVersion: 'kubelet.config.k8s.io/v1beta1', since: 10, ref: 'kubernetes#60314 (v1beta1 in 1.10)' },
  { component: 'kube-proxy', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', since: 9, ref: 'CHANGELOG-1.9 Network: "The API group/version for the kube-proxy configuration has changed from componentconfig/v1alpha1 to kubeproxy.config.k8s.io/v1alpha1" (kubernetes#53645)' },
];

export type FlagVerdict = 'ok' | 'deprecated' | 'removed' | 'not-yet' | 'unknown';

/** What the oracle says about `flag` (`--name` or `--name=value`) for `component` at 1.<minor>. */
export function judgeFlag(component: OracleComponent, flag: string, minor: number): { verdict: FlagVerdict; record?: FlagRecord } {
  const name = flag.split('=')[0] ?? flag;
  const record = FLAG_RECORDS.find((r) => r.component === component && r.flag === name);
  if (!record) return { verdict: 'unknown' };
  if (record.since !== undefined && minor < record.since) return { verdict: 'not-yet', record };
  if (record.removedIn !== undefined && minor >= record.removedIn) return { verdict: 'removed', record };
  if (record.deprecatedIn !== undefined && minor >= record.deprecatedIn) return { verdict: 'deprecated', record };
  return { verdict: 'ok', record };
}

/** The flags on a systemd unit's ExecStart (continuation lines joined), each as written (`--name=value`). */
export function unitFlags(unit: string): string[] {
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)?.[1];
  if (exec === undefined) return [];
  return exec.replace(/\\\n/g, ' ').trim().split(/\s+/).slice(1).filter((a) => a.startsWith('-'));
}

/**
 * Every oracle breach of some units at 1.<minor>: unknown, removed and not-yet flags as errors
 * naming the upstream record; deprecated flags listed apart (`<component> <flag>`).
 */
export function oracleBreaches(units: readonly { component: OracleComponent; text: string }[], minor: number): { errors: string[]; deprecated: string[] } {
  const errors: string[] = [];
  const deprecated: string[] = [];
  for (const { component, text } of units) {
    for (const flag of unitFlags(text)) {
      const { verdict, record } = judgeFlag(component, flag, minor);
      const name = flag.split('=')[0];
      if (verdict === 'unknown') errors.push(`${component} ${name}: not in the oracle — add it to test/contracts/flag-oracle.ts with its upstream reference`);
      else if (verdict === 'removed') errors.push(`${component} ${name} at 1.${minor}: removed in 1.${record?.removedIn} (${record?.ref})`);
      else if (verdict === 'not-yet') errors.push(`${component} ${name} at 1.${minor}: only from 1.${record?.since} (${record?.ref})`);
      else if (verdict === 'deprecated') deprecated.push(`${component} ${name}`);
    }
  }
  return { errors, deprecated };
}

/** A rendered host with one more flag on the ExecStart of the file ending in `/<file>`: a planted renderer mistake. */
export function withPlantedFlag<H extends { files: { path: string; contents: string }[] }>(host: H, file: string, flag: string): H {
  return { ...host, files: host.files.map((f) => (f.path.endsWith(`/${file}`) ? { ...f, contents: f.contents.replace(/^(ExecStart=\S+)/m, `$1 \\\n    ${flag}`) } : f)) };
}

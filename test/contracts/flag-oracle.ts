// The version oracle: which kubelet / kube-proxy command-line flags (and config-file API
// versions) exist, and which are deprecated, in each Kubernetes minor — written from the
// upstream record (CHANGELOG lines, the PRs that removed or deprecated them), independently of
// src/spec/matrix.ts, which the renderers consult. Tests check rendered units against this table.

export type OracleComponent = 'kubelet' | 'kube-proxy';

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

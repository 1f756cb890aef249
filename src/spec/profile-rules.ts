// What each profile can render, checked in one place: parseCluster reports these as spec issues,
// and render refuses a Cluster built in code that breaks them (ProfileError, exit 2).
import { InputError } from '../errors.ts';
import { builtInDockershim, configFilesSupported, proxyModeSupported, type Minor, type ProxyMode } from './matrix.ts';

export interface ProfileRuleInput {
  profile: 'seed' | 'modern';
  runtime: string;
  dns: string;
  kubeProxyMode?: string | undefined;
  version: Minor;
  /** the version as the spec wrote it, for messages */
  versionText: string;
}

export interface ProfileViolation {
  field: string;
  message: string;
  got: unknown;
  hint: string;
}

export function profileViolations(c: ProfileRuleInput): ProfileViolation[] {
  const out: ProfileViolation[] = [];
  const add = (field: string, message: string, got: unknown, hint: string): void => {
    out.push({ field, message, got, hint });
  };
  if (c.kubeProxyMode === 'nftables' && !proxyModeSupported(c.kubeProxyMode as ProxyMode, c.version)) {
    add('kubernetes.kubeProxyMode', `nftables needs Kubernetes ≥ 1.33 (spec has ${c.versionText})`, c.kubeProxyMode, 'use iptables (default), nftables (Kubernetes ≥ 1.33) or ipvs');
  }
  if (c.runtime === 'docker' && !builtInDockershim(c.version)) {
    add('runtime', `docker needs Kubernetes < 1.24 (dockershim was removed in 1.24; spec has ${c.versionText})`, c.runtime, 'use runtime: containerd');
  }
  // each profile renders one runtime and one DNS addon: the seed the post's, modern today's
  if (c.profile === 'seed') {
    if (c.runtime !== 'docker') add('runtime', 'the seed profile runs docker, as the post does', c.runtime, 'remove runtime, or use profile: modern for containerd');
    if (c.dns !== 'kube-dns') add('dns', 'the seed profile deploys kube-dns, as the post does', c.dns, 'remove dns, or use profile: modern for CoreDNS');
  } else {
    if (c.runtime !== 'containerd') add('runtime', 'the modern profile runs containerd', c.runtime, 'remove runtime, or use profile: seed for docker');
    if (c.dns !== 'coredns') add('dns', 'the modern profile deploys CoreDNS (its Service is still named kube-dns)', c.dns, 'remove dns, or use profile: seed for kube-dns');
    if (!configFilesSupported(c.version)) add('kubernetes.version', `the modern profile needs Kubernetes ≥ 1.10 for kubelet config files (got ${c.versionText})`, c.versionText, 'use profile: seed for older releases');
  }
  return out;
}

export class ProfileError extends InputError {}

/** Refuses a Cluster its profile cannot render (one built in code; parsed specs were checked already). */
export function assertRenderable(cluster: { sourceFile: string; profile: 'seed' | 'modern'; runtime: string; dns: string; kubernetes: { version: Minor; kubeProxyMode?: string | undefined } }): void {
  const v = cluster.kubernetes.version;
  const [first] = profileViolations({ profile: cluster.profile, runtime: cluster.runtime, dns: cluster.dns, kubeProxyMode: cluster.kubernetes.kubeProxyMode, version: v, versionText: `${v.major}.${v.minor}` });
  if (first) throw new ProfileError(`${cluster.sourceFile}: ${first.field}: ${first.message}`, { hint: first.hint });
}

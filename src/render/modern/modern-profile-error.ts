// The modern profile renders containerd, CoreDNS and config files (KubeletConfiguration,
// KubeProxyConfiguration); spec choices it cannot express are refused with a fix.
import { InputError } from '../../errors.ts';
import { compareMinor } from '../../spec/version.ts';

export class ModernProfileError extends InputError {}

export function assertModernRenderable(cluster: {
  sourceFile: string;
  runtime: string;
  dns: string;
  kubernetes: { version: { major: number; minor: number } };
}): void {
  const v = cluster.kubernetes.version;
  // --config (KubeletConfiguration v1beta1, KubeProxyConfiguration v1alpha1) arrived in 1.10
  if (compareMinor(v, { major: 1, minor: 10 }) < 0) {
    throw new ModernProfileError(`${cluster.sourceFile}: kubernetes.version: the modern profile needs Kubernetes ≥ 1.10 for its config files (got ${v.major}.${v.minor})`, {
      hint: 'use a newer kubernetes.version, or `profile: seed` for the post\'s flag-only 1.8 setup',
    });
  }
  if (cluster.runtime !== 'containerd') {
    throw new ModernProfileError(`${cluster.sourceFile}: runtime: the modern profile runs containerd (got ${cluster.runtime})`, {
      hint: 'remove `runtime:` to get containerd, or use `profile: seed` for docker',
    });
  }
  if (cluster.dns !== 'coredns') {
    throw new ModernProfileError(`${cluster.sourceFile}: dns: the modern profile deploys CoreDNS (got ${cluster.dns})`, {
      hint: 'remove `dns:` to get CoreDNS (its Service is still named kube-dns), or use `profile: seed` for kube-dns',
    });
  }
}

// The seed profile reproduces the post (docker + kube-dns); other choices belong to the modern profile.
import { InputError } from '../../errors.ts';

export class SeedProfileError extends InputError {}

/** Refuses spec choices the post's files cannot express. */
export function assertSeedRenderable(cluster: { sourceFile: string; runtime: string; dns: string }): void {
  if (cluster.runtime !== 'docker') {
    throw new SeedProfileError(`${cluster.sourceFile}: runtime: the seed profile runs docker as the post does (got ${cluster.runtime})`, {
      hint: 'remove `runtime:` to get docker, or use `profile: modern` for containerd',
    });
  }
  if (cluster.dns !== 'kube-dns') {
    throw new SeedProfileError(`${cluster.sourceFile}: dns: the seed profile deploys kube-dns as the post does (got ${cluster.dns})`, {
      hint: 'remove `dns:` to get kube-dns, or use `profile: modern` for CoreDNS',
    });
  }
}

// Refuses a plain-http mirror up front (exit 2, before any host is touched) unless the lockfile or
// the spec's pins fix the digest of every artifact of at least one arch: over http the checksum
// files prove nothing. (Per artifact, the store refuses the same when it is about to trust one.)
import type { BinarySpec } from '../render/types.ts';
import { InsecureSourceError } from './artifact-errors.ts';
import type { ArtifactLock } from './lockfile.ts';
import { isInsecureHttp } from './source-trust.ts';

export function assertTrustedMirror(mirror: string | null, lock: ArtifactLock, pins: Readonly<Record<string, string>>, binariesPerArch: readonly (readonly BinarySpec[])[]): void {
  if (mirror === null || !isInsecureHttp(mirror)) return;
  const fixed = (b: BinarySpec): boolean => lock.artifact(b.url) !== undefined || pins[b.url] !== undefined;
  if (binariesPerArch.some((list) => list.every(fixed))) return;
  const first = binariesPerArch[0]?.find((b) => !fixed(b));
  throw new InsecureSourceError(mirror, first?.url ?? 'an artifact', lock.path);
}

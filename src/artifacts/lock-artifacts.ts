// `kubewright artifacts lock`: downloads and verifies every artifact of the spec for the given
// arches and records it (sha256, size, member digests, the resolved patch release) in the
// lockfile. Without --update, existing entries are verified and kept, new ones added. With
// --update the lockfile is rebuilt from the sources as they are now: this is how a locked entry
// changes on purpose (a new pin, a re-published artifact, the newest patch of a minor).
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import { type Arch, binariesFor } from '../render/release-binaries.ts';
import type { Cluster } from '../spec/cluster.ts';
import { ArtifactStore } from './artifact-store.ts';
import type { FetchLimits } from './fetch-source.ts';
import { ArtifactLock, emptyLockfile, formatLockfile, readLockfile, type LockfileData } from './lockfile.ts';
import { resolveKubernetesVersion } from './resolve-kubernetes-version.ts';

export interface LockChange {
  kind: 'artifact' | 'kubernetes';
  /** the artifact URL, or the minor for kubernetes */
  key: string;
  change: 'added' | 'changed' | 'removed';
  old?: string | undefined;
  new?: string | undefined;
}

export interface LockResult {
  path: string;
  arches: Arch[];
  changes: LockChange[];
  written: boolean;
}

export interface LockOptions {
  path: string;
  mirror: string | null;
  cacheDir: string;
  update: boolean;
  /** default: the arches the lockfile already holds, else amd64 */
  arches?: Arch[] | undefined;
  limits?: FetchLimits | undefined;
}

/** The arches whose artifacts a lockfile holds (by the arch names in their URLs). */
export function lockedArches(data: LockfileData): Arch[] {
  const urls = Object.keys(data.artifacts);
  const found: Arch[] = [];
  if (urls.some((u) => /amd64|x86_64/.test(u))) found.push('amd64');
  if (urls.some((u) => /arm64|aarch64/.test(u))) found.push('arm64');
  return found;
}

/** What changed from `before` to `after`, entry by entry (a member-only addition is no change). */
export function diffLockfiles(before: LockfileData, after: LockfileData): LockChange[] {
  const changes: LockChange[] = [];
  const keys = (a: Record<string, unknown>, b: Record<string, unknown>): string[] => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const minor of keys(before.kubernetes, after.kubernetes)) {
    const o = before.kubernetes[minor];
    const n = after.kubernetes[minor];
    if (o !== n) changes.push({ kind: 'kubernetes', key: minor, change: o === undefined ? 'added' : n === undefined ? 'removed' : 'changed', old: o, new: n });
  }
  for (const url of keys(before.artifacts, after.artifacts)) {
    const o = before.artifacts[url]?.sha256;
    const n = after.artifacts[url]?.sha256;
    if (o !== n) changes.push({ kind: 'artifact', key: url, change: o === undefined ? 'added' : n === undefined ? 'removed' : 'changed', old: o, new: n });
  }
  return changes;
}

export async function lockArtifacts(cluster: Cluster, opts: LockOptions): Promise<LockResult> {
  const before = await readLockfile(opts.path);
  const arches = opts.arches && opts.arches.length > 0 ? opts.arches : lockedArches(before).length > 0 ? lockedArches(before) : (['amd64'] as Arch[]);
  const working = new ArtifactLock(opts.path, opts.update ? emptyLockfile() : structuredClone(before), { persist: false });
  const store = new ArtifactStore({ mirror: opts.mirror, pins: cluster.artifacts.checksums, cacheDir: opts.cacheDir, lock: working, limits: opts.limits });
  const version = await resolveKubernetesVersion(cluster, store);
  const binaries = arches.flatMap((arch) => binariesFor(cluster, { arch, kubernetesVersion: version }));
  store.want(binaries);
  // every artifact and member is downloaded and verified before the lockfile is touched
  for (const b of binaries) await store.binary(b);
  const after = working.data;
  const changes = diffLockfiles(before, after);
  const written = formatLockfile(after) !== formatLockfile(before);
  if (written) await writeFileAtomic(opts.path, formatLockfile(after));
  return { path: opts.path, arches, changes, written };
}

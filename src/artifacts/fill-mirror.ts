// Fills an air-gapped mirror (DESIGN.md layout <dir>/<upstream host>/<upstream path>) with the
// spec's release artifacts, their checksum files and stable-<minor>.txt. Every artifact is
// downloaded and verified through the ArtifactStore before anything is written, so a checksum
// mismatch leaves the target untouched; each file is written atomically and only when its bytes differ.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import { type Arch, binariesFor, mirrorUrl, stableVersionUrl } from '../render/release-binaries.ts';
import type { BinarySpec } from '../render/types.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { fetchText } from './fetch-source.ts';
import { resolveKubernetesVersion } from './resolve-kubernetes-version.ts';
import { sha256File } from './sha256-file.ts';

export type MirrorFileStatus = 'fetched' | 'unchanged';

export interface MirroredFile {
  /** the upstream URL this file copies (or, for a generated checksum, the artifact it verifies) */
  url: string;
  /** where it lies in the target mirror */
  path: string;
  kind: 'artifact' | 'checksum' | 'stable-version';
  status: MirrorFileStatus;
  /** sha256 of the artifact (artifacts only) */
  sha256?: string | undefined;
}

export interface FillMirrorResult {
  /** the resolved Kubernetes version when the spec names only a minor */
  kubernetesVersion: string | undefined;
  files: MirroredFile[];
}

export interface FillMirrorOptions {
  store: ArtifactStore;
  /** the target mirror directory */
  to: string;
  arches: readonly Arch[];
  /** the spec's artifacts.checksums (the same pins the store was given) */
  pins?: Readonly<Record<string, string>> | undefined;
}

async function currentBytes(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Writes small text files (checksums, stable-<minor>.txt) unless they already hold exactly `text`. */
async function writeTextIfChanged(path: string, text: string): Promise<MirrorFileStatus> {
  const now = await currentBytes(path);
  if (now !== undefined && now.equals(Buffer.from(text))) return 'unchanged';
  await writeFileAtomic(path, text);
  return 'fetched';
}

async function sha256IfExists(path: string): Promise<string | undefined> {
  return sha256File(path).catch(() => undefined);
}

/** One entry per artifact URL (archives hold several binaries; several arches share a checksum file). */
function uniqueArtifacts(binaries: readonly BinarySpec[]): BinarySpec[] {
  const byUrl = new Map<string, BinarySpec>();
  for (const b of binaries) if (!byUrl.has(b.url)) byUrl.set(b.url, { ...b, archiveMember: undefined });
  return [...byUrl.values()];
}

export async function fillMirror(cluster: Cluster, opts: FillMirrorOptions): Promise<FillMirrorResult> {
  const needsVersion = cluster.kubernetes.version.patch === undefined;
  const kubernetesVersion = await resolveKubernetesVersion(cluster, opts.store);
  const artifacts = uniqueArtifacts(opts.arches.flatMap((arch) => binariesFor(cluster, { arch, kubernetesVersion })));

  // download and verify everything first: nothing is written to the target unless all artifacts check out
  const verified = await Promise.all(artifacts.map(async (b) => ({ b, local: await opts.store.binary(b) })));
  const checksumBodies = new Map<string, Promise<string | undefined>>();
  for (const { b } of verified) {
    if (b.checksumUrl === undefined || checksumBodies.has(b.checksumUrl)) continue;
    const body = fetchText(opts.store.source(b.checksumUrl));
    // a pinned artifact was verified without its published checksum file: a source that lacks it is no error
    checksumBodies.set(b.checksumUrl, opts.pins?.[b.url] === undefined ? body : body.catch(() => undefined));
  }
  const stableBody = needsVersion ? await fetchText(opts.store.source(stableVersionUrl(cluster.kubernetes.version))) : undefined;
  const checksumTexts = new Map<string, string>();
  for (const [url, body] of checksumBodies) {
    const text = await body;
    if (text !== undefined) checksumTexts.set(url, text);
  }

  const files: MirroredFile[] = [];
  for (const { b, local } of verified) {
    const path = mirrorUrl(b.url, opts.to);
    const unchanged = (await sha256IfExists(path)) === local.sha256;
    if (!unchanged) await writeFileAtomic(path, await readFile(local.localPath));
    files.push({ url: b.url, path, kind: 'artifact', status: unchanged ? 'unchanged' : 'fetched', sha256: local.sha256 });
  }
  for (const [url, text] of checksumTexts) {
    const path = mirrorUrl(url, opts.to);
    files.push({ url, path, kind: 'checksum', status: await writeTextIfChanged(path, text) });
  }
  // none published (flanneld, docker's bundle) or, for a pinned artifact, none in the source: the digest beside the file
  for (const { b, local } of verified) {
    if (b.checksumUrl !== undefined && checksumTexts.has(b.checksumUrl)) continue;
    const path = `${mirrorUrl(b.url, opts.to)}.sha256`;
    const name = new URL(b.url).pathname.split('/').pop() ?? '';
    files.push({ url: `${b.url}.sha256`, path, kind: 'checksum', status: await writeTextIfChanged(path, `${local.sha256}  ${name}\n`) });
  }
  if (stableBody !== undefined) {
    const url = stableVersionUrl(cluster.kubernetes.version);
    const path = mirrorUrl(url, opts.to);
    files.push({ url, path, kind: 'stable-version', status: await writeTextIfChanged(path, stableBody) });
  }
  return { kubernetesVersion, files };
}

// The on-host manifest (/var/lib/kubewright/manifest.json): what kubewright installed on a host —
// every managed file and binary with its sha256 and its stat data as written, the units it runs
// and the directories it created. Gather trusts a recorded sha256 while a file's inode, size,
// mtime, ctime and mode are unchanged (rsync's quick check, git's index), and prune and reset
// learn from it what kubewright put there.
//
// One entry per line with a fixed key order, so that the host's shell can check a file's stat
// line against the manifest without a JSON parser: `statPrefix` is exactly how an entry starts.
import { z } from 'zod';

export const MANIFEST_PATH = '/var/lib/kubewright/manifest.json';

/** What `stat -c` reports about a file; mtime and ctime with nanoseconds, as `stat -c %.9Y` prints them. */
export interface FileStat {
  inode: number;
  size: number;
  mtime: string;
  ctime: string;
  /** permission bits, e.g. 0o644 */
  mode: number;
}

export interface ManifestFile {
  path: string;
  kind: 'file' | 'binary';
  /** the sha256 the file had when `stat` was taken; absent when kubewright does not know it */
  sha256?: string | undefined;
  stat?: FileStat | undefined;
}

export interface HostManifest {
  version: 1;
  files: ManifestFile[];
  /** units kubewright enabled (names with their suffix, e.g. kubelet.service) */
  units: string[];
  /** directories kubewright created (it removes them again only when empty) */
  dirs: string[];
}

/**
 * The `stat -c` format whose output for an unchanged file is the start of its manifest line.
 * `%n` is the path as given; kubewright's paths need no JSON escaping (a path that does simply
 * never matches, and is hashed).
 */
export const STAT_FORMAT = '{"path":"%n","inode":%i,"size":%s,"mtime":"%.9Y","ctime":"%.9Z","mode":"%a",';

/** The start of a manifest line for a file with this stat; equals the output of STAT_FORMAT. */
export function statPrefix(path: string, s: FileStat): string {
  return `{"path":${JSON.stringify(path)},"inode":${s.inode},"size":${s.size},"mtime":"${s.mtime}","ctime":"${s.ctime}","mode":"${s.mode.toString(8)}",`;
}

/** Parses one line of STAT_FORMAT output (with a closing `}` appended by the caller or not). */
export function parseStatLine(line: string): { path: string; stat: FileStat } | undefined {
  const m = /^\{"path":"(.*)","inode":(\d+),"size":(\d+),"mtime":"(\d+\.\d+)","ctime":"(\d+\.\d+)","mode":"([0-7]+)",$/.exec(line);
  if (!m) return undefined;
  return { path: m[1]!, stat: { inode: Number(m[2]), size: Number(m[3]), mtime: m[4]!, ctime: m[5]!, mode: parseInt(m[6]!, 8) } };
}

export function sameStat(a: FileStat | undefined, b: FileStat | undefined): boolean {
  return !!a && !!b && a.inode === b.inode && a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.mode === b.mode;
}

function fileLine(f: ManifestFile): string {
  // a stat is only worth recording with the sha256 it vouches for
  const head = f.sha256 !== undefined && f.stat ? statPrefix(f.path, f.stat) : `{"path":${JSON.stringify(f.path)},`;
  const sha = f.sha256 !== undefined && f.stat ? `"sha256":"${f.sha256}",` : '';
  return `${head}${sha}"kind":"${f.kind}"}`;
}

/** The manifest's text: deterministic (sorted), one file per line. */
export function serializeManifest(m: HostManifest): string {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [
    `{"version":1,"units":${JSON.stringify([...new Set(m.units)].sort())},"dirs":${JSON.stringify([...new Set(m.dirs)].sort())},"files":[`,
    files.map(fileLine).join(',\n'),
    ']}',
    '',
  ].join('\n');
}

const statSchema = z.object({ inode: z.number().int().nonnegative(), size: z.number().int().nonnegative(), mtime: z.string().regex(/^\d+\.\d+$/), ctime: z.string().regex(/^\d+\.\d+$/), mode: z.string().regex(/^[0-7]+$/) });
const manifestSchema = z.object({
  version: z.literal(1),
  units: z.array(z.string()),
  dirs: z.array(z.string().startsWith('/')),
  files: z.array(
    z
      .object({ path: z.string().startsWith('/'), kind: z.enum(['file', 'binary']), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() })
      .and(statSchema.partial()),
  ),
});

export class ManifestParseError extends Error {}

/** Parses a manifest's text; throws ManifestParseError saying what is wrong. */
export function parseManifest(text: string): HostManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ManifestParseError(`not JSON (${(e as Error).message})`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ManifestParseError(`${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return {
    version: 1,
    units: r.data.units,
    dirs: r.data.dirs,
    files: r.data.files.map((f) => {
      const complete = f.inode !== undefined && f.size !== undefined && f.mtime !== undefined && f.ctime !== undefined && f.mode !== undefined;
      return {
        path: f.path,
        kind: f.kind,
        sha256: f.sha256,
        stat: complete ? { inode: f.inode!, size: f.size!, mtime: f.mtime!, ctime: f.ctime!, mode: parseInt(f.mode!, 8) } : undefined,
      };
    }),
  };
}

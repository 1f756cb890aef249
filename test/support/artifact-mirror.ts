// A local artifacts.mirror (<dir>/<upstream host>/<upstream path>) holding stand-in binaries —
// TEST DOUBLES: shell scripts that log their argv and sleep, so units that run them stay active —
// with real checksum files in the upstream formats, and tar.gz archives for archive members.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BinarySpec } from '../../src/render/types.ts';

const run = promisify(execFile);

export interface ArtifactMirror {
  dir: string;
  /** sha256 pins for artifacts that publish no checksum (put them in spec artifacts.checksums) */
  pins: Record<string, string>;
  /** the stand-in script installed for a binary name */
  standIn(name: string, tag?: string): string;
}

export interface MirrorOptions {
  /** upstream URLs whose mirror copy is replaced by other bytes after its checksum was published */
  corrupt?: string[];
  /** distinguishes builds: a different tag gives every stand-in different bytes */
  tag?: string;
  /** `1.36` → `v1.36.<patch>` written to dl.k8s.io/release/stable-1.36.txt */
  stable?: { minor: string; version: string };
  /** pad every stand-in to this many bytes (comment lines after its exec, never read), as big as real binaries */
  padToBytes?: number;
  /** pad only the stand-ins of these binary names (e.g. `kubelet`); all when unset */
  padOnly?: string[];
}

export function standInScript(name: string, tag = ''): string {
  return `#!/bin/sh
# TEST DOUBLE for ${name} ${tag}(test/support/artifact-mirror.ts): logs its argv, then sleeps
echo "${name} $*" >>/tmp/kw-test-doubles.log 2>/dev/null
# Type=notify units (containerd): as root, systemd-notify reports for its parent, this main PID
[ -n "$NOTIFY_SOCKET" ] && systemd-notify --ready 2>/dev/null
exec sleep infinity
`;
}

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** `script` followed by `#` lines of random text to at least `size` bytes (random, so gzip cannot shrink it). */
function padded(script: string, size: number): string {
  const lines = Math.ceil((size - script.length) / 78);
  if (lines <= 0) return script;
  // 57 random bytes are 76 base64 characters: one line
  return script + (randomBytes(lines * 57).toString('base64').match(/.{76}/g) ?? []).map((l) => `#${l}\n`).join('');
}

function mirrorPath(dir: string, url: string): string {
  const u = new URL(url);
  return join(dir, u.host, u.pathname);
}

/** Builds the mirror for these binaries inside `dir` (created). */
export async function buildArtifactMirror(dir: string, binaries: readonly BinarySpec[], opts: MirrorOptions = {}): Promise<ArtifactMirror> {
  const tag = opts.tag ?? '';
  const standIn = (name: string): string => padded(standInScript(name, tag), !opts.padOnly || opts.padOnly.includes(name) ? (opts.padToBytes ?? 0) : 0);
  const pins: Record<string, string> = {};
  const byUrl = new Map<string, BinarySpec[]>();
  for (const b of binaries) byUrl.set(b.url, [...(byUrl.get(b.url) ?? []), b]);
  const checksumLines = new Map<string, string[]>();
  for (const [url, specs] of byUrl) {
    const dest = mirrorPath(dir, url);
    await mkdir(dirname(dest), { recursive: true });
    const first = specs[0]!;
    if (first.archiveMember === undefined) {
      await writeFile(dest, standIn(first.name), { mode: 0o755 });
    } else {
      const staging = await mkdtemp(join(dir, '.archive-'));
      try {
        for (const s of specs) {
          const m = join(staging, s.archiveMember!);
          await mkdir(dirname(m), { recursive: true });
          await writeFile(m, standIn(s.name), { mode: 0o755 });
        }
        // fixed mtime/owner so equal inputs give equal archives
        await run('tar', ['-czf', dest, '--mtime=2020-01-01', '--owner=0', '--group=0', '--sort=name', '-C', staging, ...specs.map((s) => s.archiveMember!)]);
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    const digest = sha256(await readFile(dest));
    const fileName = new URL(url).pathname.split('/').pop() ?? '';
    if (first.checksumUrl === undefined) pins[url] = digest;
    else if (first.checksumUrl.endsWith('.sha256') && new URL(url).host === 'dl.k8s.io') {
      checksumLines.set(first.checksumUrl, [digest]);
    } else {
      checksumLines.set(first.checksumUrl, [...(checksumLines.get(first.checksumUrl) ?? []), `${digest}  ${fileName}`]);
    }
    if (opts.corrupt?.includes(url)) await writeFile(dest, `${standInScript(first.name, tag)}# corrupted\n`, { mode: 0o755 });
  }
  for (const [checksumUrl, lines] of checksumLines) {
    const dest = mirrorPath(dir, checksumUrl);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, `${lines.join('\n')}\n`);
  }
  if (opts.stable) {
    const dest = join(dir, 'dl.k8s.io', 'release', `stable-${opts.stable.minor}.txt`);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, `${opts.stable.version}\n`);
  }
  return { dir, pins, standIn: standInScript };
}

// Release binaries for hosts: fetched from upstream (or artifacts.mirror), verified against the
// published checksum or a pin, cached locally by checksum, archive members extracted with tar.
// A host gets a binary only after its checksum was verified here.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { mirrorUrl, sha256FromChecksumFile } from '../render/release-binaries.ts';
import type { BinarySpec } from '../render/types.ts';
import { ArtifactFetchError, ChecksumMismatchError, MissingChecksumError } from './artifact-errors.ts';
import { fetchText, fetchToFile } from './fetch-source.ts';
import { sha256File } from './sha256-file.ts';

const run = promisify(execFile);

export interface ArtifactStoreOptions {
  /** directory or http(s) base laid out as <mirror>/<upstream host>/<upstream path>; null for upstream */
  mirror: string | null;
  /** sha256 pins by upstream URL (spec artifacts.checksums); they win over published checksum files */
  pins: Record<string, string>;
  cacheDir: string;
}

/** A binary ready to upload: the local file and the sha256 the installed file will have. */
export interface LocalBinary {
  localPath: string;
  sha256: string;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

export class ArtifactStore {
  private readonly opts: ArtifactStoreOptions;
  private readonly digests = new Map<string, Promise<string>>();
  private readonly downloads = new Map<string, Promise<string>>();
  private readonly members = new Map<string, Promise<LocalBinary>>();

  constructor(opts: ArtifactStoreOptions) {
    this.opts = opts;
  }

  /** Where an upstream URL is read from (the mirror copy when a mirror is set). */
  source(upstreamUrl: string): string {
    return mirrorUrl(upstreamUrl, this.opts.mirror);
  }

  /** The verified sha256 of the artifact at `b.url` (the archive for archive members). */
  expectedDigest(b: BinarySpec): Promise<string> {
    let p = this.digests.get(b.url);
    if (!p) {
      p = (async () => {
        const pin = this.opts.pins[b.url];
        if (pin) return pin.toLowerCase();
        if (!b.checksumUrl) throw new MissingChecksumError(b.url);
        const body = await fetchText(this.source(b.checksumUrl));
        const digest = sha256FromChecksumFile(body, b.url);
        if (!digest) throw new ArtifactFetchError(b.checksumUrl, `no sha256 for ${b.url.split('/').pop() ?? b.url} in the checksum file`);
        return digest;
      })();
      this.digests.set(b.url, p);
      p.catch(() => this.digests.delete(b.url));
    }
    return p;
  }

  /**
   * The sha256 the installed file will have, when known without downloading: the artifact's own
   * checksum for plain binaries, the cached member's for archives (undefined before the first fetch).
   */
  async knownInstalledDigest(b: BinarySpec): Promise<string | undefined> {
    if (!b.archiveMember) return this.expectedDigest(b);
    const digest = await this.expectedDigest(b);
    const member = this.memberPath(digest, b.archiveMember);
    return (await exists(member)) ? (await this.binary(b)).sha256 : undefined;
  }

  /** Downloads (once, cached by checksum), verifies and, for archives, extracts the binary. */
  binary(b: BinarySpec): Promise<LocalBinary> {
    const key = `${b.url}#${b.archiveMember ?? ''}`;
    let p = this.members.get(key);
    if (!p) {
      p = (async () => {
        const digest = await this.expectedDigest(b);
        const archive = await this.download(b.url, digest);
        if (!b.archiveMember) return { localPath: archive, sha256: digest };
        const member = this.memberPath(digest, b.archiveMember);
        if (!(await exists(member))) await this.extract(archive, b.url, b.archiveMember, member);
        return { localPath: member, sha256: await sha256File(member) };
      })();
      this.members.set(key, p);
      p.catch(() => this.members.delete(key));
    }
    return p;
  }

  private memberPath(archiveDigest: string, member: string): string {
    return join(this.opts.cacheDir, 'members', archiveDigest, member.replace(/^(\.\/)+/, ''));
  }

  private download(url: string, digest: string): Promise<string> {
    let p = this.downloads.get(digest);
    if (!p) {
      p = (async () => {
        const dest = join(this.opts.cacheDir, 'sha256', digest);
        if (await exists(dest)) return dest;
        await mkdir(dirname(dest), { recursive: true });
        const tmp = `${dest}.${randomBytes(6).toString('hex')}.part`;
        try {
          const source = this.source(url);
          await fetchToFile(source, tmp);
          const actual = await sha256File(tmp);
          if (actual !== digest) throw new ChecksumMismatchError(url, digest, actual, this.opts.pins[url] ? 'artifacts.checksums' : 'the published checksum');
          await rename(tmp, dest);
          return dest;
        } finally {
          await rm(tmp, { force: true });
        }
      })();
      this.downloads.set(digest, p);
      p.catch(() => this.downloads.delete(digest));
    }
    return p;
  }

  private async extract(archive: string, url: string, member: string, dest: string): Promise<void> {
    const tmpDir = `${dirname(dest)}.${randomBytes(6).toString('hex')}.part`;
    await mkdir(tmpDir, { recursive: true });
    try {
      // GNU tar detects gzip by itself when reading a file
      await run('tar', ['-xf', archive, '-C', tmpDir, '--', member]).catch((e: { stderr?: string }) => {
        throw new ArtifactFetchError(url, `member ${member} cannot be extracted: ${(e.stderr ?? '').trim() || 'tar failed'}`, e);
      });
      await mkdir(dirname(dest), { recursive: true });
      await rename(join(tmpDir, member), dest).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST' && e.code !== 'ENOTEMPTY') throw e;
      });
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
  }
}

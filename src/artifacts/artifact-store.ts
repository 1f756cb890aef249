// Release binaries for hosts: fetched from upstream (or artifacts.mirror), verified, cached
// locally by checksum, archive members extracted with tar. A host gets a binary only after its
// checksum was verified here.
//
// Where the expected sha256 comes from, strongest first: the lockfile; a pin in
// artifacts.checksums (the two must agree); the checksum file published beside the artifact,
// trusted on first use and then recorded in the lockfile. Knowing an archive member's digest
// (lockfile, or the cache's index) needs no download, so a converged host costs no archive.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import { mirrorUrl, sha256FromChecksumFile } from '../render/release-binaries.ts';
import type { BinarySpec } from '../render/types.ts';
import { extractMembers, memberKey } from './archive-members.ts';
import { ArtifactFetchError, ChecksumMismatchError, InsecureSourceError, LockConflictError, MissingChecksumError } from './artifact-errors.ts';
import { fetchText, fetchToFile, type FetchLimits } from './fetch-source.ts';
import type { ArtifactLock } from './lockfile.ts';
import { sha256File } from './sha256-file.ts';
import { isInsecureHttp } from './source-trust.ts';

export interface ArtifactStoreOptions {
  /** directory or http(s) base laid out as <mirror>/<upstream host>/<upstream path>; null for upstream */
  mirror: string | null;
  /** sha256 pins by upstream URL (spec artifacts.checksums); they win over published checksum files */
  pins: Record<string, string>;
  cacheDir: string;
  /** the spec's lockfile: verified against, and first fetches recorded in it */
  lock?: ArtifactLock | undefined;
  /** timeouts, retries and the size cap of downloads */
  limits?: FetchLimits | undefined;
}

/** A binary ready to upload: the local file and the sha256 the installed file will have. */
export interface LocalBinary {
  localPath: string;
  sha256: string;
}

type MemberDigests = Record<string, string>;

export class ArtifactStore {
  private readonly opts: ArtifactStoreOptions;
  private readonly digests = new Map<string, Promise<string>>();
  private readonly downloads = new Map<string, Promise<string>>();
  private readonly extractions = new Map<string, Promise<Map<string, LocalBinary>>>();
  private readonly members = new Map<string, Promise<LocalBinary>>();
  /** archive URL → every member some binary of this run installs from it */
  private readonly wanted = new Map<string, Set<string>>();
  private readonly unlocked = new Set<string>();

  constructor(opts: ArtifactStoreOptions) {
    this.opts = opts;
  }

  get lock(): ArtifactLock | undefined {
    return this.opts.lock;
  }

  /** Where an upstream URL is read from (the mirror copy when a mirror is set). */
  source(upstreamUrl: string): string {
    return mirrorUrl(upstreamUrl, this.opts.mirror);
  }

  /** Announces binaries this run may install, so each archive is extracted once for all its members. */
  want(binaries: readonly BinarySpec[]): void {
    for (const b of binaries) {
      if (b.archiveMember === undefined) continue;
      let set = this.wanted.get(b.url);
      if (!set) this.wanted.set(b.url, (set = new Set()));
      set.add(b.archiveMember);
    }
  }

  /** Artifact URLs whose digest this run took from a published checksum: not in the lockfile yet. */
  unlockedUrls(): string[] {
    return [...this.unlocked].filter((u) => !this.opts.lock?.artifact(u)).sort();
  }

  /** The verified sha256 of the artifact at `b.url` (the archive for archive members). */
  expectedDigest(b: BinarySpec): Promise<string> {
    let p = this.digests.get(b.url);
    if (!p) {
      p = (async () => {
        const pin = this.opts.pins[b.url]?.toLowerCase();
        const locked = this.opts.lock?.artifact(b.url)?.sha256;
        if (pin !== undefined && locked !== undefined && pin !== locked) throw new LockConflictError(b.url, pin, locked, this.opts.lock!.path);
        if (locked !== undefined) return locked;
        this.unlocked.add(b.url);
        if (pin !== undefined) return pin;
        if (!b.checksumUrl) throw new MissingChecksumError(b.url);
        const source = this.source(b.checksumUrl);
        if (isInsecureHttp(source)) throw new InsecureSourceError(source, b.url, this.opts.lock?.path);
        const body = await fetchText(source, this.opts.limits);
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
   * for plain binaries; for archive members the lockfile's record, else the cache index of an
   * earlier extraction (undefined when neither knows).
   */
  async knownInstalledDigest(b: BinarySpec): Promise<string | undefined> {
    const digest = await this.expectedDigest(b);
    if (!b.archiveMember) return digest;
    const locked = this.opts.lock?.member(b.url, memberKey(b.archiveMember));
    if (locked !== undefined) return locked;
    return (await this.readIndex(digest))[memberKey(b.archiveMember)];
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
        const name = memberKey(b.archiveMember);
        let got = (await this.extractAll(b.url, digest, archive)).get(name);
        // a member nobody announced: extract it on its own
        if (!got) got = (await this.extract(b.url, digest, archive, [b.archiveMember])).get(name)!;
        const locked = this.opts.lock?.member(b.url, name);
        if (locked !== undefined && locked !== got.sha256) throw new ChecksumMismatchError(`${b.url} (member ${name})`, locked, got.sha256, this.opts.lock!.path);
        await this.opts.lock?.recordMember(b.url, name, got.sha256);
        return got;
      })();
      this.members.set(key, p);
      p.catch(() => this.members.delete(key));
    }
    return p;
  }

  private memberDir(archiveDigest: string): string {
    return join(this.opts.cacheDir, 'members', archiveDigest);
  }

  private indexPath(archiveDigest: string): string {
    return join(this.opts.cacheDir, 'members', `${archiveDigest}.json`);
  }

  private async readIndex(archiveDigest: string): Promise<MemberDigests> {
    try {
      const raw = JSON.parse(await readFile(this.indexPath(archiveDigest), 'utf8')) as unknown;
      if (raw === null || typeof raw !== 'object') return {};
      return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string' && /^[a-f0-9]{64}$/.test(e[1])));
    } catch {
      return {};
    }
  }

  /** Cached (and re-verified) or freshly extracted: every announced member of one archive. */
  private extractAll(url: string, digest: string, archive: string): Promise<Map<string, LocalBinary>> {
    let p = this.extractions.get(digest);
    if (!p) {
      p = this.extract(url, digest, archive, [...(this.wanted.get(url) ?? [])]);
      this.extractions.set(digest, p);
      p.catch(() => this.extractions.delete(digest));
    }
    return p;
  }

  private async extract(url: string, digest: string, archive: string, members: readonly string[]): Promise<Map<string, LocalBinary>> {
    const out = new Map<string, LocalBinary>();
    const index = await this.readIndex(digest);
    const dir = this.memberDir(digest);
    // cached members are re-hashed against the index; any that differ are extracted again
    const todo: string[] = [];
    for (const m of members) {
      const name = memberKey(m);
      const path = join(dir, name);
      const known = index[name];
      const actual = known === undefined ? undefined : await sha256File(path).catch(() => undefined);
      if (known !== undefined && actual === known) out.set(name, { localPath: path, sha256: known });
      else todo.push(m);
    }
    if (todo.length === 0) return out;
    await mkdir(dir, { recursive: true });
    const { dir: tmp, files } = await extractMembers(archive, url, todo, dir);
    try {
      for (const f of files) {
        const name = memberKey(f.member);
        const dest = join(dir, name);
        await mkdir(dirname(dest), { recursive: true });
        await rename(f.path, dest);
        index[name] = f.sha256;
        out.set(name, { localPath: dest, sha256: f.sha256 });
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    await writeFileAtomic(this.indexPath(digest), `${JSON.stringify({ ...(await this.readIndex(digest)), ...index }, null, 2)}\n`);
    return out;
  }

  private download(url: string, digest: string): Promise<string> {
    let p = this.downloads.get(digest);
    if (!p) {
      p = (async () => {
        const dest = join(this.opts.cacheDir, 'sha256', digest);
        const locked = this.opts.lock?.artifact(url);
        // a cached copy is used only after it hashes to its name again (disk faults, tampering)
        const cached = await sha256File(dest).catch(() => undefined);
        if (cached === digest) {
          await this.opts.lock?.recordArtifact(url, digest, (await stat(dest)).size);
          return dest;
        }
        if (cached !== undefined) await rm(dest, { force: true });
        const source = this.source(url);
        await mkdir(dirname(dest), { recursive: true });
        const tmp = `${dest}.${randomBytes(6).toString('hex')}.part`;
        try {
          // a locked artifact may not grow past its recorded size
          const limits = locked ? { ...this.opts.limits, maxBytes: locked.size, maxBytesFrom: `its size recorded in ${this.opts.lock!.path}` } : this.opts.limits;
          await fetchToFile(source, tmp, limits);
          const actual = await sha256File(tmp);
          if (actual !== digest) {
            const from = locked ? this.opts.lock!.path : this.opts.pins[url] ? 'artifacts.checksums' : 'the published checksum';
            throw new ChecksumMismatchError(url, digest, actual, from);
          }
          await rename(tmp, dest);
        } finally {
          await rm(tmp, { force: true });
        }
        await this.opts.lock?.recordArtifact(url, digest, (await stat(dest)).size);
        return dest;
      })();
      this.downloads.set(digest, p);
      p.catch(() => this.downloads.delete(digest));
    }
    return p;
  }
}

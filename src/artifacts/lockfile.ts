// The artifact lockfile (`<spec>.lock` beside the spec, committed like package-lock.json): the
// sha256 and size of every artifact URL, the sha256 of every archive member kubewright installed
// from it, and the patch release a minor-only kubernetes.version resolved to — recorded when first
// fetched. Later runs verify against it instead of the checksum files served beside the
// artifacts, and need no download at all to know what a converged host should hold.
// `kubewright artifacts lock --update` is the one way to change a recorded entry.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';

export const LOCKFILE_VERSION = 1;

const sha256 = z.string().regex(/^[a-f0-9]{64}$/, { error: 'must be a lowercase sha256 hex digest' });

const lockedArtifactSchema = z.strictObject({
  sha256,
  size: z.number().int().min(0),
  /** archive member path → sha256 of the extracted file */
  members: z.record(z.string().min(1), sha256).optional(),
});

const lockfileSchema = z.strictObject({
  lockfileVersion: z.literal(LOCKFILE_VERSION, { error: `must be ${LOCKFILE_VERSION}` }),
  /** "1.36" → "1.36.2": the release a minor-only kubernetes.version resolved to */
  kubernetes: z.record(z.string().regex(/^\d+\.\d+$/), z.string().regex(/^\d+\.\d+\.\d+$/)).default({}),
  artifacts: z.record(z.url({ protocol: /^https$/, error: 'must be an https:// upstream URL' }), lockedArtifactSchema).default({}),
});

export type LockedArtifact = z.infer<typeof lockedArtifactSchema>;
export type LockfileData = z.infer<typeof lockfileSchema>;

export function emptyLockfile(): LockfileData {
  return { lockfileVersion: LOCKFILE_VERSION, kubernetes: {}, artifacts: {} };
}

/** `cluster.yaml` → `cluster.lock` in the same folder (one lockfile per spec). */
export function lockfilePathFor(specFile: string): string {
  const name = basename(specFile).replace(/\.(ya?ml|json)$/i, '');
  return join(dirname(specFile), `${name && name !== '-' ? name : 'kubewright'}.lock`);
}

export function parseLockfile(text: string, path: string): LockfileData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, {
      hint: 'restore it from version control, or delete it and run `kubewright artifacts lock -f <spec>` to record the artifacts again',
    });
  }
  const parsed = lockfileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? first.path.map(String).join('.') || '(document)' : '(document)';
    throw new InputError(`${path}: ${where}: ${first?.message ?? 'invalid'}`, {
      hint: 'the lockfile is written by kubewright: restore it from version control, or delete it and run `kubewright artifacts lock -f <spec>`',
    });
  }
  return parsed.data;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]!]));
}

/** Stable text: keys sorted, two-space JSON, trailing newline (diffs stay small). */
export function formatLockfile(data: LockfileData): string {
  const artifacts = sortedRecord(
    Object.fromEntries(
      Object.entries(data.artifacts).map(([url, a]) => [url, { sha256: a.sha256, size: a.size, ...(a.members && Object.keys(a.members).length > 0 ? { members: sortedRecord(a.members) } : {}) }]),
    ),
  );
  return `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, kubernetes: sortedRecord(data.kubernetes), artifacts }, null, 2)}\n`;
}

export async function readLockfile(path: string): Promise<LockfileData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyLockfile();
    throw new InputError(`${path}: cannot read the lockfile (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { hint: 'check its permissions' });
  }
  return parseLockfile(text, path);
}

/**
 * The lockfile of one run. `record*` add what was first fetched and verified; in `persist` mode
 * every addition is written through (atomically, writes coalesced), so a run that stops half-way
 * keeps what it verified. A recorded entry is never changed here: that is `artifacts lock --update`.
 */
export class ArtifactLock {
  readonly path: string;
  readonly data: LockfileData;
  private readonly persist: boolean;
  private readonly added = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(path: string, data: LockfileData, opts: { persist: boolean }) {
    this.path = path;
    this.data = data;
    this.persist = opts.persist;
  }

  static async load(path: string, opts: { persist: boolean }): Promise<ArtifactLock> {
    return new ArtifactLock(path, await readLockfile(path), opts);
  }

  artifact(url: string): LockedArtifact | undefined {
    return Object.hasOwn(this.data.artifacts, url) ? this.data.artifacts[url] : undefined;
  }

  member(url: string, member: string): string | undefined {
    const m = this.artifact(url)?.members;
    return m && Object.hasOwn(m, member) ? m[member] : undefined;
  }

  kubernetes(minor: string): string | undefined {
    return Object.hasOwn(this.data.kubernetes, minor) ? this.data.kubernetes[minor] : undefined;
  }

  /** what this run added, for reports: `artifact <url>`, `member <url>#<member>`, `kubernetes <minor>` */
  additions(): string[] {
    return [...this.added];
  }

  recordArtifact(url: string, digest: string, size: number): Promise<void> {
    if (this.artifact(url)) return Promise.resolve();
    this.data.artifacts[url] = { sha256: digest, size };
    this.added.add(`artifact ${url}`);
    return this.save();
  }

  recordMember(url: string, member: string, digest: string): Promise<void> {
    const a = this.artifact(url);
    if (!a || this.member(url, member) !== undefined) return Promise.resolve();
    a.members = { ...(a.members ?? {}), [member]: digest };
    this.added.add(`member ${url}#${member}`);
    return this.save();
  }

  recordKubernetes(minor: string, version: string): Promise<void> {
    if (this.kubernetes(minor) !== undefined) return Promise.resolve();
    this.data.kubernetes[minor] = version;
    this.added.add(`kubernetes ${minor}`);
    return this.save();
  }

  private save(): Promise<void> {
    if (!this.persist) return Promise.resolve();
    if (this.queued) return this.queued;
    const q = this.writing.then(async () => {
      this.queued = undefined;
      await writeFileAtomic(this.path, formatLockfile(this.data));
    });
    this.queued = q;
    this.writing = q.catch(() => undefined);
    return q;
  }
}

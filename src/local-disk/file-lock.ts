// An exclusive lock between processes: a file created with O_EXCL that names its holder (PID,
// the PID's start time, the boot and the machine). A lock whose holder is gone — a dead PID, or
// a PID reused by another process (another start time or boot) — is stale and taken over.
// Taking over goes through a short-lived "breaker" directory so that two waiters never both
// remove a lock and one of them deletes the other's fresh one.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat starttime (clock ticks since boot); undefined off Linux */
  start: string | undefined;
  boot: string | undefined;
  host: string;
  /** what the holder is doing, for the message a waiter gets */
  purpose: string;
  since: string;
}

export interface FileLock {
  path: string;
  release(): Promise<void>;
}

/** Why a lock could not be taken: another live process holds it. */
export class LockBusyError extends Error {
  readonly holder: LockHolder | undefined;
  constructor(path: string, holder: LockHolder | undefined) {
    super(`${path} is held by ${holder ? `process ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.since})` : 'another process'}`);
    this.holder = holder;
  }
}

function procStart(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 22; the command name (field 2) may hold spaces and parentheses, so count from its end
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote `h` is certainly gone. A holder on another machine is never judged. */
export function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  const boot = bootId();
  if (h.boot !== undefined && boot !== undefined && h.boot !== boot) return true;
  if (!alive(h.pid)) return true;
  const start = procStart(h.pid);
  return h.start !== undefined && start !== undefined && h.start !== start;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string') return undefined;
    return { pid: h.pid, start: h.start, boot: h.boot, host: h.host, purpose: String(h.purpose ?? '?'), since: String(h.since ?? '?') };
  } catch {
    return undefined;
  }
}

async function readHolder(path: string): Promise<{ text: string; holder: LockHolder | undefined } | undefined> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  return text === undefined ? undefined : { text, holder: parseHolder(text) };
}

/** A breaker left by a process that died mid-takeover is removed after this long. */
const breakerStaleMs = 10_000;
/** A lock file still empty after this long was left by a process killed between create and write. */
const emptyStaleMs = 5_000;

/** Removes the lock at `path` if it still holds exactly `text` (the stale holder we read). */
async function breakStale(path: string, text: string): Promise<void> {
  const breaker = `${path}.break`;
  try {
    await mkdir(breaker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const s = await stat(breaker).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > breakerStaleMs) await rmdir(breaker).catch(() => undefined);
    return;
  }
  try {
    const now = await readHolder(path);
    if (now?.text === text) await unlink(path).catch(() => undefined);
  } finally {
    await rmdir(breaker).catch(() => undefined);
  }
}

/** One attempt: the lock, or the live holder that has it. */
export async function tryLock(path: string, purpose: string): Promise<FileLock | LockBusyError> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      const me: LockHolder = { pid: process.pid, start: procStart(process.pid), boot: bootId(), host: hostname(), purpose, since: new Date().toISOString() };
      const text = `${JSON.stringify(me)}\n`;
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return {
        path,
        release: async () => {
          // only our own lock: never one a waiter took over from us while we were gone
          const now = await readHolder(path).catch(() => undefined);
          if (now?.text === text) await unlink(path).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const current = await readHolder(path);
    if (!current) continue;
    if (!current.holder) {
      // created but not yet written, or garbage: stale only once it has stayed so for a while
      const s = await stat(path).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > emptyStaleMs) await breakStale(path, current.text);
      else return new LockBusyError(path, undefined);
      continue;
    }
    if (!isStale(current.holder)) return new LockBusyError(path, current.holder);
    await breakStale(path, current.text);
  }
  return new LockBusyError(path, undefined);
}

/** Takes the lock, polling every `pollMs` for up to `timeoutMs` (0: one attempt). Throws LockBusyError. */
export async function acquireLock(path: string, purpose: string, opts: { timeoutMs: number; pollMs?: number }): Promise<FileLock> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const r = await tryLock(path, purpose);
    if (!(r instanceof LockBusyError)) return r;
    if (Date.now() >= deadline) throw r;
    await new Promise((resolve) => setTimeout(resolve, Math.min(opts.pollMs ?? 200, Math.max(1, deadline - Date.now()))));
  }
}

/** Runs `fn` holding the lock at `path`. */
export async function withLock<T>(path: string, purpose: string, opts: { timeoutMs: number; pollMs?: number }, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, purpose, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

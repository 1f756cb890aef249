// Reads an artifact source: an http(s) URL or a path (a directory mirror). Downloads are bounded:
// a stalled connection times out (no bytes for `idleTimeoutMs`), transient failures (network
// errors, timeouts, HTTP 5xx and 429) are retried with backoff, and a body larger than `maxBytes`
// is refused without retrying, however the server announces it.
import { createWriteStream } from 'node:fs';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactFetchError, ArtifactTooLargeError } from './artifact-errors.ts';

const isHttp = (s: string): boolean => /^https?:\/\//i.test(s);

export interface FetchLimits {
  /** abort when no bytes arrive for this long (headers included); default 30 s */
  idleTimeoutMs?: number | undefined;
  /** further attempts after a transient failure; default 3 */
  retries?: number | undefined;
  /** first backoff delay, doubled per retry; default 1 s */
  retryDelayMs?: number | undefined;
  /** refuse bodies larger than this; default 1 GiB (the largest release binary, kubelet, is ~100 MiB) */
  maxBytes?: number | undefined;
  /** where maxBytes comes from, for the error (e.g. the lockfile's recorded size) */
  maxBytesFrom?: string | undefined;
}

export const defaultFetchLimits = { idleTimeoutMs: 30_000, retries: 3, retryDelayMs: 1_000, maxBytes: 1024 ** 3 } as const;
/** checksum files and stable-<minor>.txt are a few lines */
const TEXT_MAX_BYTES = 1024 * 1024;

/** A failure worth another attempt (the server or the network), as opposed to a final answer. */
class TransientFetchError extends Error {}

function causeText(e: unknown): string {
  if (e instanceof Error) return e.cause instanceof Error ? e.cause.message : e.message;
  return String(e);
}

function limitsOf(l: FetchLimits | undefined): { idleTimeoutMs: number; retries: number; retryDelayMs: number; maxBytes: number; maxBytesFrom: string | undefined } {
  return {
    idleTimeoutMs: l?.idleTimeoutMs ?? defaultFetchLimits.idleTimeoutMs,
    retries: l?.retries ?? defaultFetchLimits.retries,
    retryDelayMs: l?.retryDelayMs ?? defaultFetchLimits.retryDelayMs,
    maxBytes: l?.maxBytes ?? defaultFetchLimits.maxBytes,
    maxBytesFrom: l?.maxBytesFrom,
  };
}

/** One GET whose body goes through `sink`; the idle timer restarts with every chunk. */
async function attempt(source: string, limits: ReturnType<typeof limitsOf>, sink: () => Writable): Promise<void> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new TransientFetchError(`no data for ${Math.round(limits.idleTimeoutMs / 1000)} s (timed out)`)), limits.idleTimeoutMs);
  };
  arm();
  try {
    let res: Response;
    try {
      res = await fetch(source, { redirect: 'follow', signal: ac.signal });
    } catch (e) {
      throw ac.signal.aborted ? ac.signal.reason : new TransientFetchError(causeText(e));
    }
    if (res.status >= 500 || res.status === 429) throw new TransientFetchError(`HTTP ${res.status}`);
    if (!res.ok || !res.body) throw new ArtifactFetchError(source, `HTTP ${res.status}`);
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > limits.maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new ArtifactTooLargeError(source, limits.maxBytes, announced, limits.maxBytesFrom);
    }
    let seen = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        arm();
        seen += chunk.length;
        if (seen > limits.maxBytes) done(new ArtifactTooLargeError(source, limits.maxBytes, undefined, limits.maxBytesFrom));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, sink());
    } catch (e) {
      if (e instanceof ArtifactTooLargeError || e instanceof ArtifactFetchError) throw e;
      throw ac.signal.aborted ? ac.signal.reason : new TransientFetchError(causeText(e));
    }
  } finally {
    clearTimeout(timer);
  }
}

async function withRetries(source: string, limits: ReturnType<typeof limitsOf>, sink: () => Writable): Promise<void> {
  for (let n = 0; ; n++) {
    try {
      await attempt(source, limits, sink);
      return;
    } catch (e) {
      if (!(e instanceof TransientFetchError)) throw e;
      if (n >= limits.retries) throw new ArtifactFetchError(source, `${e.message} (after ${n + 1} attempt${n === 0 ? '' : 's'})`, e);
      await new Promise((r) => setTimeout(r, limits.retryDelayMs * 2 ** n));
    }
  }
}

export async function fetchText(source: string, limits?: FetchLimits): Promise<string> {
  const l = { ...limitsOf(limits), maxBytes: Math.min(limitsOf(limits).maxBytes, TEXT_MAX_BYTES) };
  if (!isHttp(source)) {
    try {
      const st = await stat(source);
      if (st.size > l.maxBytes) throw new ArtifactTooLargeError(source, l.maxBytes, st.size, l.maxBytesFrom);
      return await readFile(source, 'utf8');
    } catch (e) {
      if (e instanceof ArtifactTooLargeError) throw e;
      throw new ArtifactFetchError(source, (e as NodeJS.ErrnoException).code ?? String(e), e);
    }
  }
  let chunks: Buffer[] = [];
  await withRetries(source, l, () => {
    chunks = [];
    return new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
  });
  return Buffer.concat(chunks).toString('utf8');
}

export async function fetchToFile(source: string, dest: string, limits?: FetchLimits): Promise<void> {
  const l = limitsOf(limits);
  if (!isHttp(source)) {
    try {
      const st = await stat(source);
      if (st.size > l.maxBytes) throw new ArtifactTooLargeError(source, l.maxBytes, st.size, l.maxBytesFrom);
      await copyFile(source, dest);
      return;
    } catch (e) {
      if (e instanceof ArtifactTooLargeError) throw e;
      throw new ArtifactFetchError(source, (e as NodeJS.ErrnoException).code ?? String(e), e);
    }
  }
  // each attempt rewrites dest from the start
  await withRetries(source, l, () => createWriteStream(dest, { mode: 0o644 }));
}

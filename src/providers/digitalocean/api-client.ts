// A small DigitalOcean API v2 client: bearer token, JSON, pagination via links.pages.next,
// typed errors from `{id, message, request_id}`, and bounded retries with exponential backoff
// and jitter. Idempotent requests (GET, DELETE) are retried on 429, 5xx, timeouts and connection
// resets; a POST only on 429 (DigitalOcean did not process it), otherwise its outcome is unknown
// and the caller reconciles (DigitalOceanUncertainError). Every request first passes the client's
// RatePacer (rate-pacer.ts): it stays inside the token's per-minute and hourly limits from its own
// count and the ratelimit-* headers, so a 429 is the exception (another user of the token), not the plan.
import { ExitCode } from '../../errors.ts';
import { DigitalOceanApiError, DigitalOceanRetriesExhaustedError, DigitalOceanUncertainError } from './errors.ts';
import { trace } from '../../trace.ts';
import { digitalOceanLimits, RatePacer, type RateLimits } from './rate-pacer.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';

/** Time as the client sees it; tests inject a fake clock so backoff costs nothing. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** One finished HTTP exchange (no headers, no body, no token): for counting calls and progress. */
export interface ApiCallEvent {
  method: HttpMethod;
  path: string;
  status: number | 'network-error' | 'timeout';
  attempt: number;
}

export interface DigitalOceanClientOptions {
  token: string;
  /** e.g. https://api.digitalocean.com (no /v2) */
  baseUrl: string;
  clock?: Clock;
  random?: () => number;
  /** attempts per request including the first (default 8) */
  maxAttempts?: number;
  /** total time one request may spend retrying (default 5 min) */
  maxRetryMs?: number;
  /** one HTTP exchange (default 30 s) */
  requestTimeoutMs?: number;
  /** first backoff step (default 500 ms), doubled per attempt up to maxDelayMs (default 30 s) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onCall?: (e: ApiCallEvent) => void;
  /** the token's limits the client paces itself to (default DigitalOcean's: 250/min; the hourly budget comes from the headers) */
  limits?: RateLimits;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

// DigitalOcean's maximum page size (parameter per_page, 1..200)
export const maxPerPage = 200;
const maxPages = 10_000;

export class DigitalOceanClient {
  private readonly token: string;
  readonly baseUrl: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly maxRetryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onCall: ((e: ApiCallEvent) => void) | undefined;
  /** paces every request (see rate-pacer.ts); its waitedMs says how long pacing cost */
  readonly pacer: RatePacer;

  constructor(opts: DigitalOceanClientOptions) {
    this.token = opts.token;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.maxRetryMs = opts.maxRetryMs ?? 5 * 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.onCall = opts.onCall;
    this.pacer = new RatePacer(this.clock, opts.limits ?? digitalOceanLimits);
  }

  /** Removes the token from any text that might reach a message. */
  redact(text: string): string {
    return this.token.length >= 4 ? text.replaceAll(this.token, '[redacted]') : text;
  }

  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const what = `${method} ${url.pathname}`;
    const idempotent = method !== 'POST' && method !== 'PATCH';
    const started = this.clock.now();
    let lastProblem = '';
    for (let attempt = 1; ; attempt++) {
      const t0 = this.clock.now();
      const outcome = await this.exchange(method, url, opts.body);
      trace(this.redact(`digitalocean: ${method} ${url.pathname}${url.search} → ${outcome.kind === 'response' ? outcome.status : outcome.kind} (${Math.round(this.clock.now() - t0)} ms${attempt > 1 ? `, attempt ${attempt}` : ''})`));
      this.onCall?.({ method, path: url.pathname, status: outcome.kind === 'response' ? outcome.status : outcome.kind, attempt });

      let waitMs: number;
      if (outcome.kind === 'response') {
        const { status, headers, text } = outcome;
        if (status >= 200 && status < 300) return { status, body: parseJson(text) as T };
        const err = parseErrorBody(text);
        if (status === 429) {
          lastProblem = `rate limited (429 ${err.id ?? 'too_many_requests'})`;
          waitMs = this.rateLimitWait(headers, attempt);
        } else if (status >= 500) {
          lastProblem = `server error ${status}${err.id ? ` ${err.id}` : ''}`;
          if (!idempotent) {
            throw new DigitalOceanUncertainError(`digitalocean: ${what}: ${lastProblem}; the request may have been applied`);
          }
          waitMs = this.backoff(attempt);
        } else {
          throw this.apiError(what, status, headers, err);
        }
      } else {
        lastProblem = outcome.kind === 'timeout' ? `no answer within ${this.requestTimeoutMs} ms` : `connection failed (${outcome.reason})`;
        if (!idempotent) {
          throw new DigitalOceanUncertainError(`digitalocean: ${what}: ${lastProblem}; the request may have been applied`);
        }
        waitMs = this.backoff(attempt);
      }

      const elapsed = this.clock.now() - started;
      if (attempt >= this.maxAttempts || elapsed + waitMs > this.maxRetryMs) {
        const why = attempt >= this.maxAttempts ? `${attempt} attempts` : `the next wait (${Math.ceil(waitMs / 1000)} s) would pass the ${Math.round(this.maxRetryMs / 1000)} s retry budget`;
        throw new DigitalOceanRetriesExhaustedError(`digitalocean: ${what}: gave up after ${why}; last: ${lastProblem}`, {
          attempts: attempt,
          hint: lastProblem.startsWith('rate limited')
            ? 'the token is over DigitalOcean\'s rate limit (250/min, 5,000/h); wait and rerun — reruns only create what is missing'
            : 'check https://status.digitalocean.com and the network, then rerun — reruns only create what is missing',
        });
      }
      await this.clock.sleep(waitMs);
    }
  }

  /** Every item of a paged list: per_page=200, following links.pages.next on the same base URL. */
  async listAll<T>(path: string, key: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let nextPath = path;
    let nextQuery: Record<string, string | number | undefined> = { ...query, per_page: maxPerPage };
    for (let page = 0; page < maxPages; page++) {
      const { body } = await this.request<Record<string, unknown>>('GET', nextPath, { query: nextQuery });
      const list = body[key];
      if (!Array.isArray(list)) {
        throw new DigitalOceanApiError(`digitalocean: GET ${path}: answer has no "${key}" list`, { status: 200, hint: 'is DIGITALOCEAN_API_URL a DigitalOcean-compatible API?' });
      }
      items.push(...(list as T[]));
      const next = nextPageLink(body);
      if (next === undefined) return items;
      // Follow only the path and query of `next`, always on our base URL: the token never goes elsewhere.
      const nextUrl = new URL(next, this.baseUrl);
      const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
      nextPath = nextUrl.pathname.startsWith(basePath) ? nextUrl.pathname.slice(basePath.length) : nextUrl.pathname;
      nextQuery = { ...Object.fromEntries(nextUrl.searchParams.entries()), per_page: maxPerPage };
    }
    throw new DigitalOceanApiError(`digitalocean: GET ${path}: more than ${maxPages} pages`, { status: 200 });
  }

  private async exchange(
    method: HttpMethod,
    url: URL,
    body: unknown,
  ): Promise<{ kind: 'response'; status: number; headers: Headers; text: string } | { kind: 'timeout' } | { kind: 'network-error'; reason: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const ticket = await this.pacer.acquire();
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    try {
      const res = await fetch(url, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal });
      this.pacer.observe(res.headers, ticket);
      const text = await res.text();
      return { kind: 'response', status: res.status, headers: res.headers, text };
    } catch (e) {
      if (signal.aborted) return { kind: 'timeout' };
      return { kind: 'network-error', reason: this.redact(networkReason(e)) };
    }
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    // "equal jitter": at least half the step, so retries of many clients spread out but still back off
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  /** 429: retry-after (seconds) wins; else ratelimit-reset (epoch seconds) when nothing remains; else backoff. */
  private rateLimitWait(headers: Headers, attempt: number): number {
    const jitter = Math.round(this.random() * 250);
    const retryAfter = Number(headers.get('retry-after'));
    if (headers.get('retry-after') !== null && Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000 + jitter;
    const remaining = headers.get('ratelimit-remaining');
    const reset = Number(headers.get('ratelimit-reset'));
    if (remaining === '0' && Number.isFinite(reset) && reset > 0) {
      return Math.max(0, reset * 1000 - this.clock.now()) + jitter;
    }
    return this.backoff(attempt);
  }

  private apiError(what: string, status: number, headers: Headers, err: ParsedErrorBody): DigitalOceanApiError {
    const requestId = err.requestId ?? headers.get('x-request-id') ?? undefined;
    const message = this.redact(err.message ?? 'no message');
    const ref = requestId ? ` (request ${requestId})` : '';
    if (status === 401) {
      return new DigitalOceanApiError(`digitalocean: ${what}: token rejected (401 ${err.id ?? 'unauthorized'})${ref}`, {
        status, id: err.id, requestId, exitCode: ExitCode.badInput,
        hint: 'check DIGITALOCEAN_ACCESS_TOKEN / --token-file: the token may be expired, revoked or lack the droplet, tag and firewall scopes',
      });
    }
    if (status === 403) {
      return new DigitalOceanApiError(`digitalocean: ${what}: forbidden (403 ${err.id ?? 'forbidden'}): ${message}${ref}`, {
        status, id: err.id, requestId, exitCode: ExitCode.badInput, hint: 'give the token the droplet:create/read/delete, tag:create/read, firewall:create/read/update/delete and ssh_key scopes',
      });
    }
    if (status === 422 || status === 400) {
      const field = err.field ?? fieldFromViolations(headers.get('sl-violations')) ?? fieldFromMessage(message);
      const where = field ? `field ${field}: ` : '';
      return new DigitalOceanApiError(`digitalocean: ${what}: request rejected (${status} ${err.id ?? 'unprocessable_entity'}): ${where}${message}${ref}`, {
        status, id: err.id, requestId, field, exitCode: ExitCode.badInput,
        hint: field ? `check the spec value that becomes "${field}" (provider.digitalocean.*)` : 'check provider.digitalocean in the spec',
      });
    }
    if (status === 404) {
      return new DigitalOceanApiError(`digitalocean: ${what}: not found (404 ${err.id ?? 'not_found'}): ${message}${ref}`, { status, id: err.id, requestId });
    }
    return new DigitalOceanApiError(`digitalocean: ${what}: failed (${status} ${err.id ?? 'error'}): ${message}${ref}`, { status, id: err.id, requestId });
  }
}

interface ParsedErrorBody {
  id?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
  field?: string | undefined;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new DigitalOceanApiError('digitalocean: the API answered with something that is not JSON', { status: 200, hint: 'is DIGITALOCEAN_API_URL a DigitalOcean-compatible API?' });
  }
}

/** DigitalOcean's `{id, message, request_id}`, or a problem+json with `validation[]` (Prism, proxies). */
function parseErrorBody(text: string): ParsedErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) || undefined };
  }
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const out: ParsedErrorBody = { id: str(b['id']), message: str(b['message']) ?? str(b['title']), requestId: str(b['request_id']) };
  if (Array.isArray(b['validation'])) out.field = fieldFromViolationList(b['validation']);
  return out;
}

function fieldFromViolations(header: string | null): string | undefined {
  if (!header) return undefined;
  try {
    const list: unknown = JSON.parse(header);
    return Array.isArray(list) ? fieldFromViolationList(list) : undefined;
  } catch {
    return undefined;
  }
}

function fieldFromViolationList(list: unknown[]): string | undefined {
  for (const v of list) {
    const loc = (v as { location?: unknown }).location;
    if (!Array.isArray(loc)) continue;
    const parts = loc.map(String).filter((p) => p !== 'request' && p !== 'body');
    if (parts.length > 0) return parts.join('.');
  }
  return undefined;
}

/** DigitalOcean 422 messages start with the field: "Size is not valid", "names must be unique". */
function fieldFromMessage(message: string): string | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s+(is|are|must|has|have|can|cannot|should)\b/.exec(message);
  return m?.[1]?.toLowerCase();
}

function nextPageLink(body: Record<string, unknown>): string | undefined {
  const links = body['links'];
  if (links === null || typeof links !== 'object') return undefined;
  const pages = (links as Record<string, unknown>)['pages'];
  if (pages === null || typeof pages !== 'object') return undefined;
  const next = (pages as Record<string, unknown>)['next'];
  return typeof next === 'string' && next !== '' ? next : undefined;
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

// Pacing requests to stay inside DigitalOcean's per-token limits without waiting for a 429:
// 250 requests per minute (no header tells how many are left, so the pacer counts its own
// requests in a sliding minute) and 5,000 per hour (every answer carries ratelimit-remaining and
// ratelimit-reset, the epoch second at which the oldest counted request expires; the window
// slides, so one request's room comes back at that time, not the whole hour's).
// Rules, in order, before each request:
//   1. if this token already sent `perMinute` requests in the last minute: wait until the oldest
//      is a minute (plus a margin for the network) old;
//   2. if the last answer said nothing remains of the hour (less the requests sent since): wait
//      until ratelimit-reset;
//   3. if little remains (≤ lowWater): spread what is left evenly until ratelimit-reset, so the
//      budget never runs dry in one burst while someone else shares the token.
// A 429 still gets the client's retry (retry-after / ratelimit-reset), but the pacer's job is
// that none comes from kubewright's own requests.
import type { Clock } from './api-client.ts';

export interface RateLimits {
  /** DigitalOcean: 250 */
  perMinute: number;
  /** ratelimit-remaining at or below this spreads the rest until ratelimit-reset (default: perMinute) */
  lowWater?: number;
  /** added to every minute-window wait: the API counts a request when it arrives, a little after we send it (default 1 s) */
  marginMs?: number;
}

export const digitalOceanLimits: RateLimits = { perMinute: 250 };

/** What one answer's headers said about the hour's budget. */
interface HourBudget {
  remaining: number;
  resetAtMs: number;
  /** requests sent after the request this answer belongs to (its count does not include them yet) */
  sentSince: number;
}

export class RatePacer {
  private readonly sent: number[] = [];
  private hour: HourBudget | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private readonly perMinute: number;
  private readonly lowWater: number;
  private readonly marginMs: number;
  /** simulated or real milliseconds spent waiting, for reports */
  waitedMs = 0;

  constructor(
    private readonly clock: Clock,
    limits: RateLimits = digitalOceanLimits,
  ) {
    if (!(limits.perMinute >= 1)) throw new RangeError(`RatePacer: perMinute must be ≥ 1 (got ${limits.perMinute})`);
    this.perMinute = limits.perMinute;
    this.lowWater = limits.lowWater ?? limits.perMinute;
    this.marginMs = limits.marginMs ?? 1000;
  }

  /** Waits until one more request fits, then counts it as sent; returns its number for observe(). Concurrent callers queue. */
  acquire(): Promise<number> {
    const turn = this.queue.then(() => this.waitForRoom());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** How long the next request must wait now (0 = go). Pure: for tests and for acquire. */
  delayMs(): number {
    const now = this.clock.now();
    this.expire(now);
    let wait = 0;
    if (this.sent.length >= this.perMinute) wait = (this.sent[this.sent.length - this.perMinute] ?? now) + 60_000 + this.marginMs - now;
    const h = this.hour;
    if (h && h.resetAtMs > now) {
      const left = h.remaining - h.sentSince;
      if (left <= 0) wait = Math.max(wait, h.resetAtMs - now);
      else if (left <= this.lowWater) wait = Math.max(wait, Math.floor((h.resetAtMs - now) / left));
    }
    return Math.max(0, Math.ceil(wait));
  }

  /** Reads ratelimit-remaining / ratelimit-reset from the answer (any status) to request number `ticket`. */
  observe(headers: Headers, ticket: number): void {
    // a burst-limit 429 says remaining 0 too, but with retry-after: that is the minute's limit, not the hour's (the client waits it out)
    if (headers.get('retry-after') !== null) return;
    const remaining = Number(headers.get('ratelimit-remaining') ?? NaN);
    const reset = Number(headers.get('ratelimit-reset') ?? NaN);
    if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining < 0 || reset <= 0) return;
    this.hour = { remaining, resetAtMs: reset * 1000, sentSince: this.seq - ticket };
  }

  private async waitForRoom(): Promise<number> {
    // bounded: each wait ends at a time when a slot frees or the spread interval has passed
    for (let i = 0; i < 10_000; i++) {
      const wait = this.delayMs();
      if (wait === 0) break;
      this.waitedMs += wait;
      await this.clock.sleep(wait);
      // past ratelimit-reset the oldest request expired and the count is stale: the next answer says where we are
      if (this.hour && this.clock.now() >= this.hour.resetAtMs) this.hour = undefined;
    }
    this.sent.push(this.clock.now());
    if (this.hour) this.hour.sentSince++;
    return ++this.seq;
  }

  private expire(now: number): void {
    while (this.sent.length > 0 && (this.sent[0] ?? 0) <= now - 60_000 - this.marginMs) this.sent.shift();
  }
}

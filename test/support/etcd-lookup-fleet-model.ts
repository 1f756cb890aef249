// MODEL of N nodes running etcd-lookup at once (src/render/etcd-lookup.ts), for the fleet test and
// the scale bench. Each node follows the script's timing rules — start delay 0..jitter, one list
// call per attempt, on 429 wait retry-after (else ratelimit-reset when nothing remains) plus
// 0..max(jitter, retry) seconds, on other failures equal-jitter backoff from `retry` doubling to
// 300 s — and sends its list requests for real, over HTTP, to the DigitalOcean simulator (a TEST
// DOUBLE) with the nodes' read-only token. Time is simulated: a discrete-event clock that the
// simulator shares, advanced only when no request is in flight. The rules are the script's, written
// again here; each one is also tested on the real script (test/etcd/etcd-lookup-script.test.ts),
// and the constants (jitter window, back-off cap) are imported from the renderer, not copied.
import { ETCD_LOOKUP_MAX_BACKOFF_SECONDS } from '../../src/render/etcd-lookup.ts';

/** A clock for many concurrent actors: sleep() resolves in time order; run() drives it. */
export class EventClock {
  private t: number;
  private inflight = 0;
  private readonly timers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, wake });
    });
  }
  /** Wraps real I/O: time stands still while any is in flight. */
  async io<T>(work: () => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await work();
    } finally {
      this.inflight--;
    }
  }
  /** Advances time timer by timer until `done` settles (bounded by maxSteps). */
  async run(done: Promise<unknown>, maxSteps = 1_000_000): Promise<void> {
    let finished = false;
    void done.finally(() => (finished = true));
    for (let step = 0; step < maxSteps; step++) {
      // let every actor reach its next sleep or request
      for (let i = 0; i < 5 || this.inflight > 0; i++) await new Promise((r) => setImmediate(r));
      if (finished) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next) throw new Error('EventClock: nothing left to wake and the run is not done');
      this.t = next.at;
      // everyone due at this instant wakes together, as they would
      let due = 0;
      while (due < this.timers.length && this.timers[due]?.at === next.at) due++;
      for (const timer of this.timers.splice(0, due)) timer.wake();
    }
    throw new Error(`EventClock: more than ${maxSteps} steps`);
  }
}

export interface FleetOptions {
  nodes: number;
  apiUrl: string;
  token: string;
  tag: string;
  clock: EventClock;
  /** seconds: the script's ETCD_LOOKUP_JITTER_SECONDS (0 = all at once) */
  jitterS: number;
  /** seconds: ETCD_LOOKUP_RETRY_SECONDS (the script's default is 10) */
  retryS?: number;
  /** the pre-change script: no jitter, a fixed retry interval, 429 treated like any failure */
  naive?: boolean;
  random?: () => number;
  /** give up on a node after this many attempts (the script's default is no limit) */
  maxAttempts?: number;
}

export interface FleetResult {
  /** simulated seconds from the start until each node wrote its members (undefined: it gave up) */
  doneAtS: (number | undefined)[];
  requests: number;
  rateLimited: number;
}

export async function runLookupFleet(opts: FleetOptions): Promise<FleetResult> {
  const { clock } = opts;
  const random = opts.random ?? Math.random;
  const retryS = opts.retryS ?? 10;
  const upto = (n: number): number => (n > 0 ? Math.floor(random() * (n + 1)) : 0);
  const start = clock.now();
  let requests = 0;
  let rateLimited = 0;

  // at most 50 real connections at once (simulated time stands still meanwhile, so this changes no
  // result): a thousand at one instant would overflow the simulator's listen backlog
  let open = 0;
  const queue: (() => void)[] = [];
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    if (open >= 50) await new Promise<void>((r) => queue.push(r));
    open++;
    try {
      return await work();
    } finally {
      open--;
      queue.shift()?.();
    }
  };

  const node = async (): Promise<number | undefined> => {
    if (!opts.naive) await clock.sleep(upto(opts.jitterS) * 1000);
    let backoff = retryS;
    for (let attempt = 1; attempt <= (opts.maxAttempts ?? 1000); attempt++) {
      requests++;
      const res = await clock.io(() => limited(async () => {
        const r = await fetch(`${opts.apiUrl}/v2/droplets?tag_name=${opts.tag}&per_page=200&page=1`, { headers: { authorization: `Bearer ${opts.token}` } });
        const body = (await r.json()) as { droplets?: { networks: { v4?: { type: string; ip_address: string }[] } }[] };
        return { status: r.status, headers: r.headers, body };
      }));
      if (res.status === 200 && (res.body.droplets ?? []).some((d) => (d.networks.v4 ?? []).some((n) => n.type === 'private'))) {
        return (clock.now() - start) / 1000;
      }
      let waitS: number;
      if (opts.naive) {
        waitS = retryS;
      } else if (res.status === 429 && rateLimitWaitS(res.headers, clock.now()) !== undefined) {
        waitS = (rateLimitWaitS(res.headers, clock.now()) ?? 0) + upto(Math.max(opts.jitterS, retryS));
      } else {
        waitS = Math.floor(backoff / 2) + upto(backoff - Math.floor(backoff / 2));
      }
      if (res.status === 429) rateLimited++;
      backoff = Math.min(backoff * 2, ETCD_LOOKUP_MAX_BACKOFF_SECONDS);
      await clock.sleep(waitS * 1000);
    }
    return undefined;
  };

  const all = Promise.all(Array.from({ length: opts.nodes }, () => node()));
  await clock.run(all);
  return { doneAtS: await all, requests, rateLimited };
}

/** The script's rate_limit_wait: retry-after, else seconds until ratelimit-reset when nothing remains. */
function rateLimitWaitS(h: Headers, nowMs: number): number | undefined {
  const after = h.get('retry-after');
  if (after !== null && /^\d+$/.test(after)) return Number(after);
  const reset = h.get('ratelimit-reset');
  if (h.get('ratelimit-remaining') === '0' && reset !== null && /^\d+$/.test(reset)) {
    const nowS = Math.floor(nowMs / 1000);
    return Number(reset) > nowS ? Number(reset) - nowS : 1;
  }
  return undefined;
}

// The client's pacing rules (src/providers/digitalocean/rate-pacer.ts) on a fake clock, fed
// DigitalOcean's rate-limit headers by hand: the minute window, ratelimit-remaining 0 until
// ratelimit-reset, spreading a low remainder, requests in flight, and burst 429s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RatePacer } from '../../src/providers/digitalocean/rate-pacer.ts';
import { FakeClock } from './fake-clock.ts';

const headers = (remaining: number, resetAtS: number, extra: Record<string, string> = {}): Headers =>
  new Headers({ 'ratelimit-limit': '5000', 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetAtS), ...extra });

test('a burst goes through while the minute has room, then each request waits for the oldest to be a minute old', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const pacer = new RatePacer(clock, { perMinute: 5, marginMs: 0 });
  for (let i = 0; i < 5; i++) {
    await pacer.acquire();
    await clock.sleep(1_000);
  }
  assert.equal(clock.now() - start, 5_000);
  // the 6th waits until the 1st (sent at 0 s) is 60 s old
  await pacer.acquire();
  assert.equal(clock.now() - start, 60_000);
  await pacer.acquire();
  assert.equal(clock.now() - start, 61_000);
  assert.equal(pacer.waitedMs, 55_000 + 1_000);
});

/** A pacer that sent one request whose answer said `remaining` are left until `resetInS` from now. */
async function afterOneAnswer(lowWater: number, remaining: number, resetInS: number): Promise<{ clock: FakeClock; pacer: RatePacer; ticket: number; resetAtS: number }> {
  const clock = new FakeClock();
  const pacer = new RatePacer(clock, { perMinute: 250, lowWater });
  const ticket = await pacer.acquire();
  const resetAtS = Math.ceil(clock.now() / 1000) + resetInS;
  pacer.observe(headers(remaining, resetAtS), ticket);
  return { clock, pacer, ticket, resetAtS };
}

test('ratelimit-remaining 0 holds the next request until ratelimit-reset, then one goes', async () => {
  const { clock, pacer, resetAtS } = await afterOneAnswer(0, 0, 90);
  assert.equal(pacer.delayMs(), resetAtS * 1000 - clock.now());
  await pacer.acquire();
  assert.equal(clock.now(), resetAtS * 1000);
  // past the reset the stale count is dropped: the next answer says where the hour stands
  assert.equal(pacer.delayMs(), 0);
});

test('a low ratelimit-remaining is spread evenly until ratelimit-reset instead of spent in one burst', async () => {
  const { pacer, ticket, resetAtS } = await afterOneAnswer(100, 50, 600);
  const gap = pacer.delayMs();
  assert.ok(Math.abs(gap - 12_000) <= 1_000, `600 s over 50 requests is 12 s apart (got ${gap} ms)`);
  // above the low-water mark nothing waits
  pacer.observe(headers(101, resetAtS), ticket);
  assert.equal(pacer.delayMs(), 0);
});

test('requests sent after an answer count against the remaining it reported', async () => {
  const clock = new FakeClock();
  const pacer = new RatePacer(clock, { perMinute: 250, lowWater: 0 });
  const first = await pacer.acquire();
  await pacer.acquire();
  await pacer.acquire();
  // the first request's answer says 2 remain, but two more already left after it
  pacer.observe(headers(2, Math.ceil(clock.now() / 1000) + 30), first);
  assert.ok(pacer.delayMs() > 29_000, 'nothing remains: wait for the reset');
});

test('a burst-limit 429 (retry-after) does not count as the hour running out', async () => {
  const clock = new FakeClock();
  const pacer = new RatePacer(clock);
  const ticket = await pacer.acquire();
  pacer.observe(headers(0, Math.ceil(clock.now() / 1000) + 3_000, { 'retry-after': '3' }), ticket);
  assert.equal(pacer.delayMs(), 0, 'the client waits retry-after itself; the pacer does not wait an hour');
});

test('answers without rate-limit headers leave the pacer to its minute window', async () => {
  const clock = new FakeClock();
  const pacer = new RatePacer(clock, { perMinute: 2, marginMs: 0 });
  const t = await pacer.acquire();
  pacer.observe(new Headers({ 'content-type': 'application/json' }), t);
  await pacer.acquire();
  assert.equal(pacer.delayMs(), 60_000);
});

test('concurrent callers queue and each is counted', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const pacer = new RatePacer(clock, { perMinute: 3, marginMs: 0 });
  const tickets = await Promise.all(Array.from({ length: 7 }, () => pacer.acquire()));
  assert.deepEqual(tickets, [1, 2, 3, 4, 5, 6, 7]);
  // 3 at 0 s, 3 at 60 s, 1 at 120 s
  assert.equal(clock.now() - start, 120_000);
});

test('a nonsensical limit is refused', () => {
  assert.throws(() => new RatePacer(new FakeClock(), { perMinute: 0 }), /perMinute must be ≥ 1/);
});

// TEST DOUBLE — a fake clock shared by the DigitalOcean client and the simulator: sleeping
// advances simulated time instantly, so backoff, rate-limit waits and polling cost no real time.
import type { Clock } from '../../src/providers/digitalocean/api-client.ts';

export class FakeClock implements Clock {
  private t: number;
  slept = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
    this.slept += ms;
    await new Promise((r) => setImmediate(r));
  }
}

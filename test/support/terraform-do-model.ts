// MODEL (not a measurement: no Terraform binary runs here) of the API calls and time Terraform's
// digitalocean provider needs to create N droplets, for the benches and the scale test to compare
// against in the same run. The pattern, from terraform-provider-digitalocean
// (digitalocean/droplet/resource_droplet.go): one POST /v2/droplets per droplet, then
// waitForDropletAttribute polls GET /v2/droplets/{id} in a StateChangeConf (Delay 10 s,
// MinTimeout 3 s; the SDK's wait starts at 100 ms and doubles up to 10 s, never below MinTimeout),
// then one read; `terraform apply` runs `-parallelism=10` resources at a time. A rerun (refresh)
// reads each droplet once.
// Time is a LOWER BOUND: the larger of the poll schedule in waves of 10 and the time the token's
// limits (250/min, 5,000/h) need for that many calls; the provider has no pacing of its own
// (requests_per_second defaults to 0, unlimited), so the real run also spends 429 retries.

export const digitalOceanPerMinute = 250;
export const digitalOceanPerHour = 5_000;

/** GET polls Terraform's StateChangeConf makes for one droplet that turns active `activeS` after its create. */
export function terraformPollsPerDroplet(activeS: number): { polls: number; doneAtS: number } {
  let t = 10; // Delay
  let polls = 1; // first refresh after the delay
  let wait = 0.1;
  while (t < activeS) {
    wait = Math.min(wait * 2, 10);
    t += Math.max(wait, 3);
    polls++;
  }
  return { polls, doneAtS: t };
}

export interface TerraformModel {
  calls: number;
  creates: number;
  gets: number;
  /** the poll schedule alone, waves of `parallelism` */
  scheduleS: number;
  /** the least time the rate limits allow for `calls` */
  rateLimitS: number;
  /** max(scheduleS, rateLimitS): a lower bound of the wall time */
  modelledS: number;
  rerunCalls: number;
}

export function terraformModel(n: number, activateAfterS: number, parallelism = 10): TerraformModel {
  const { polls, doneAtS } = terraformPollsPerDroplet(activateAfterS);
  const gets = n * (polls + 1);
  const calls = n + gets;
  const scheduleS = Math.ceil(n / parallelism) * doneAtS;
  // every 250 calls after the first take another minute; every 5,000 after the first another hour
  const rateLimitS = Math.max(Math.floor((calls - 1) / digitalOceanPerMinute) * 60, Math.floor((calls - 1) / digitalOceanPerHour) * 3600);
  return { calls, creates: n, gets, scheduleS, rateLimitS, modelledS: Math.max(scheduleS, rateLimitS), rerunCalls: n };
}

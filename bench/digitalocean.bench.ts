// Benchmark: API calls and time to ensure N = 10, 50, 100 workers with kubewright's DigitalOcean
// provider against the DigitalOcean simulator (test double, on loopback, no Prism so the proxy's
// validation cost is not measured), beside the calls Terraform's digitalocean provider would make
// for the same N. The Terraform column is MODELLED, not measured (no provider binary here):
// one POST per droplet, then GET /v2/droplets/{id} polls in a StateChangeConf (Delay 10 s,
// MinTimeout 3 s — waitForDropletAttribute in terraform-provider-digitalocean
// digitalocean/droplet/resource_droplet.go; the SDK's wait starts at 100 ms, doubles up to 10 s,
// never below MinTimeout), one read after create, and `-parallelism=10` waves. A rerun
// (plan/refresh) reads each droplet once.
// Droplets turn active `activateAfterS` after creation on a simulated clock, so modelled time
// is comparable; wall time is the real cost of kubewright + simulator on this machine.
// Run: node --import tsx bench/digitalocean.bench.ts
import { DigitalOceanClient } from '../src/providers/digitalocean/api-client.ts';
import { ensureWorkers, type WorkerPoolSpec } from '../src/providers/digitalocean/ensure-workers.ts';
import { FakeClock } from '../test/providers/fake-clock.ts';
import { DigitalOceanSimulator } from '../test/support/do-simulator.ts';

const SIZES = [10, 50, 100];
const activateAfterS = 45;
const pollIntervalS = 5;
const token = 'bench-token';
const pool: WorkerPoolSpec = {
  region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['k8s-worker'], vpcUuid: null, domain: 'example.com', namePattern: 'k8s-worker-{index}.{domain}',
};

/** GET polls Terraform's StateChangeConf makes for one droplet that turns active after `activeS`. */
function terraformPollsPerDroplet(activeS: number): { polls: number; doneAtS: number } {
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

function terraformModel(n: number): { calls: number; creates: number; gets: number; modelledS: number; rerunCalls: number } {
  const { polls, doneAtS } = terraformPollsPerDroplet(activateAfterS);
  const gets = n * (polls + 1);
  return { calls: n + gets, creates: n, gets, modelledS: Math.ceil(n / 10) * doneAtS, rerunCalls: n };
}

interface Row {
  n: number;
  calls: number;
  creates: number;
  lists: number;
  rerunCalls: number;
  modelledS: number;
  wallMs: number;
}

async function measure(n: number): Promise<Row> {
  const clock = new FakeClock();
  const sim = new DigitalOceanSimulator({ token, now: () => clock.now(), activateAfterMs: activateAfterS * 1000 });
  await sim.start();
  try {
    const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock });
    const start = clock.now();
    const t0 = performance.now();
    await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock, pollIntervalMs: pollIntervalS * 1000 });
    const wallMs = performance.now() - t0;
    const modelledS = (clock.now() - start) / 1000;
    const c = sim.counts();
    sim.resetCounts();
    await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock, pollIntervalMs: pollIntervalS * 1000 });
    return { n, calls: c.total, creates: c.creates, lists: c.lists, rerunCalls: sim.counts().total, modelledS, wallMs };
  } finally {
    await sim.stop();
  }
}

// one discarded run so the JIT warm-up is not charged to N=10
await measure(5);
const rows: Row[] = [];
for (const n of SIZES) rows.push(await measure(n));

const pad = (s: string | number, w: number): string => String(s).padStart(w);
console.log(`DigitalOcean ensure: droplets active ${activateAfterS} s after create; kubewright polls list-by-tag every ${pollIntervalS} s`);
console.log('');
console.log(`${pad('N', 4)} | ${pad('kw calls', 8)} ${pad('creates', 7)} ${pad('lists', 5)} ${pad('rerun', 5)} ${pad('time*', 6)} ${pad('wall', 8)} | ${pad('tf calls', 8)} ${pad('creates', 7)} ${pad('GETs', 5)} ${pad('rerun', 5)} ${pad('time*', 6)} | ${pad('calls ratio', 11)}`);
for (const r of rows) {
  const tf = terraformModel(r.n);
  console.log(
    `${pad(r.n, 4)} | ${pad(r.calls, 8)} ${pad(r.creates, 7)} ${pad(r.lists, 5)} ${pad(r.rerunCalls, 5)} ${pad(`${r.modelledS}s`, 6)} ${pad(`${r.wallMs.toFixed(0)}ms`, 8)}` +
      ` | ${pad(tf.calls, 8)} ${pad(tf.creates, 7)} ${pad(tf.gets, 5)} ${pad(tf.rerunCalls, 5)} ${pad(`${tf.modelledS}s`, 6)} | ${pad(`${(tf.calls / r.calls).toFixed(1)}x fewer`, 11)}`,
  );
}
console.log('');
console.log('kw = kubewright, measured against the simulator. tf = Terraform digitalocean provider, MODELLED (see the header of this file).');
console.log('time* = simulated time until every droplet is active (kubewright: fake clock; Terraform: waves of 10 × its poll schedule).');
console.log('wall = real time kubewright + simulator spent on this machine. Rate limit: 250 requests/min, 5,000/h per token.');

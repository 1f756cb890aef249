// Benchmark: ensuring N = 10, 100 and 1,000 workers with kubewright's DigitalOcean provider against
// the DigitalOcean simulator (TEST DOUBLE, on loopback, no Prism so the proxy's validation cost is
// not measured), beside the MODELLED calls and time of Terraform's digitalocean provider for the
// same N (test/support/terraform-do-model.ts: no Terraform binary runs here). Droplets turn active
// `activateAfterS` after their create on a simulated clock shared by client and simulator, so the
// simulated times compare; wall and RSS are the real cost of kubewright + simulator in this one
// process on this machine. Rate limits as DigitalOcean's: 250/min, 5,000/h per token.
// Also: the same ensure when someone else already spent 4,950 of the token's hour (the pacer
// spreads the last 50 requests until ratelimit-reset), counting 429s (want 0); and 1,000 nodes
// running etcd-lookup at once on the fleet's one read-only token (a MODEL of the script's timing
// rules sending real requests to the simulator, test/support/etcd-lookup-fleet-model.ts), beside
// the script's rules before this change (no jitter, a fixed 10 s retry).
// Run: npm run -s bench:scale-digitalocean
import { DigitalOceanClient } from '../src/providers/digitalocean/api-client.ts';
import { ensureWorkers, type WorkerPoolSpec } from '../src/providers/digitalocean/ensure-workers.ts';
import { FakeClock } from '../test/providers/fake-clock.ts';
import { DigitalOceanSimulator } from '../test/support/do-simulator.ts';
import { terraformModel } from '../test/support/terraform-do-model.ts';
import { EventClock, runLookupFleet } from '../test/support/etcd-lookup-fleet-model.ts';
import { etcdLookupJitterSeconds } from '../src/render/etcd-lookup.ts';
import { parseCluster } from '../src/spec/cluster.ts';

const SIZES = [10, 100, 1000];
const activateAfterS = 45;
const pollIntervalS = 5;
const token = 'bench-token';
const pool: WorkerPoolSpec = {
  region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['k8s-worker'], vpcUuid: null, domain: 'example.com', namePattern: 'k8s-worker-{index}.{domain}',
};

interface Row {
  label: string;
  n: number;
  preloaded: boolean;
  calls: number;
  creates: number;
  lists: number;
  limited: number;
  rerunCalls: number;
  simulatedS: number;
  wallMs: number;
  rssMb: number;
}

async function measure(n: number, preloaded = 0): Promise<Row> {
  const clock = new FakeClock();
  const sim = new DigitalOceanSimulator({ token, now: () => clock.now(), activateAfterMs: activateAfterS * 1000 });
  await sim.start();
  try {
    if (preloaded > 0) sim.preload(preloaded, 3_000_000);
    const client = new DigitalOceanClient({ token, baseUrl: sim.url, clock });
    const start = clock.now();
    const t0 = performance.now();
    await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock, pollIntervalMs: pollIntervalS * 1000, deadlineMs: 3_600_000 });
    const wallMs = performance.now() - t0;
    const simulatedS = (clock.now() - start) / 1000;
    const c = sim.counts();
    const limited = sim.requests.filter((r) => r.status === 429).length;
    sim.resetCounts();
    await ensureWorkers({ client, pool, count: n, sshKeys: ['3b:16'], clock, pollIntervalMs: pollIntervalS * 1000 });
    return {
      label: preloaded > 0 ? `${n}, ${5000 - preloaded} left/h` : String(n),
      n, preloaded: preloaded > 0, calls: c.total, creates: c.creates, lists: c.lists, limited, rerunCalls: sim.counts().total, simulatedS, wallMs,
      rssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await sim.stop();
  }
}

// one discarded run so the JIT warm-up is not charged to the first row
await measure(5);
const rows: Row[] = [];
for (const n of SIZES) rows.push(await measure(n));
rows.push(await measure(1000, 4_950));

const pad = (s: string | number, w: number): string => String(s).padStart(w);
const dur = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 120 ? `${(s / 60).toFixed(1)}m` : `${Math.round(s)}s`);
console.log(`DigitalOcean ensure at scale: droplets active ${activateAfterS} s after create; kubewright polls list-by-tag every ${pollIntervalS} s per page of 200`);
console.log('');
console.log(
  `${pad('N', 20)} | ${pad('calls', 5)} ${pad('creates', 7)} ${pad('pages', 5)} ${pad('429s', 4)} ${pad('rerun', 5)} ${pad('sim time', 8)} ${pad('wall', 7)} ${pad('peak RSS', 8)}` +
    ` | ${pad('tf calls', 8)} ${pad('tf time≥', 8)} | ${pad('calls ratio', 11)} ${pad('time ratio', 10)}`,
);
for (const r of rows) {
  const tf = terraformModel(r.n, activateAfterS);
  // the model starts from an unused token: no Terraform column for the row whose hour was already spent
  const tfCells = r.preloaded
    ? ` | ${pad('-', 8)} ${pad('-', 8)} | ${pad('-', 11)} ${pad('-', 10)}`
    : ` | ${pad(tf.calls, 8)} ${pad(dur(tf.modelledS), 8)} | ${pad(`${(tf.calls / r.calls).toFixed(0)}x fewer`, 11)} ${pad(`${(tf.modelledS / r.simulatedS).toFixed(1)}x less`, 10)}`;
  console.log(
    `${pad(r.label, 20)} | ${pad(r.calls, 5)} ${pad(r.creates, 7)} ${pad(r.lists, 5)} ${pad(r.limited, 4)} ${pad(r.rerunCalls, 5)} ${pad(dur(r.simulatedS), 8)} ${pad(`${r.wallMs.toFixed(0)}ms`, 7)} ${pad(`${r.rssMb.toFixed(0)}MB`, 8)}${tfCells}`,
  );
}
console.log('');
console.log('calls/creates/pages/429s/rerun: measured against the simulator (test double). sim time: simulated time until every droplet is active.');
console.log('wall: real time kubewright + simulator spent here; peak RSS: this whole process (kubewright + simulator), cumulative over the rows.');
console.log('tf: Terraform digitalocean provider, MODELLED (test/support/terraform-do-model.ts): one create per droplet + per-droplet polls,');
console.log('    -parallelism=10; tf time≥ is a lower bound: the poll schedule or what 250/min and 5,000/h allow for its calls, whichever is longer.');

// node-side etcd-lookup: 1,000 nodes that start at once and have no members file yet
async function lookupFleet(naive: boolean): Promise<{ requests: number; limited: number; peak: number; lastS: number; stuck: number }> {
  const clock = new EventClock();
  const sim = new DigitalOceanSimulator({ token, readOnlyTokens: ['node-token'], now: () => clock.now() });
  await sim.start();
  try {
    for (let i = 0; i < 3; i++) sim.seed({ name: `etcd-${i}`, tags: ['k8s-etcd'] });
    const spec = parseCluster(
      'apiVersion: kubewright.dev/v1alpha1\nkind: Cluster\nmetadata: { name: bench }\nkubernetes: { apiServer: "https://api.example.com:6443" }\n' +
        'provider: { digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [k8s-worker], domain: example.com } }\n' +
        'workers: { count: 1000 }\netcd: { discovery: { digitaloceanTag: k8s-etcd } }\n',
      'bench.yaml',
    );
    const r = await runLookupFleet({ nodes: 1000, apiUrl: sim.url, token: 'node-token', tag: 'k8s-etcd', clock, jitterS: etcdLookupJitterSeconds(spec), naive, ...(naive ? { maxAttempts: 30 } : {}) });
    const done = r.doneAtS.filter((x): x is number => x !== undefined);
    return { requests: r.requests, limited: r.rateLimited, peak: sim.peakInWindow(60_000), lastS: Math.max(...done), stuck: r.doneAtS.length - done.length };
  } finally {
    await sim.stop();
  }
}

console.log('');
console.log('etcd-lookup on 1,000 nodes starting at once, one read-only token (250/min), no members file yet:');
console.log(`${pad('script', 28)} | ${pad('requests', 8)} ${pad('429s', 5)} ${pad('peak/min', 8)} ${pad('last node done', 14)}`);
for (const [label, naive] of [['jitter + 429 back-off (now)', false], ['no jitter, fixed 10 s retry', true]] as const) {
  const f = await lookupFleet(naive);
  console.log(`${pad(label, 28)} | ${pad(f.requests, 8)} ${pad(f.limited, 5)} ${pad(f.peak, 8)} ${pad(`${dur(f.lastS)}${f.stuck ? ` (${f.stuck} stuck)` : ''}`, 14)}`);
}
console.log('with the members written at apply time (the default when apply has the lookup token): 1 request for the whole fleet, 0 per node.');
console.log('the nodes are a MODEL of the script\'s rules sending real requests to the simulator; peak/min counts every request, 429s included.');

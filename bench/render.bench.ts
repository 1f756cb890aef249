// Benchmark: pure rendering (plannedHosts + renderCluster) and pure planning (planFromFacts: the
// diff of every host against its gathered facts, for a fresh host and for a converged one) for
// 10 … 5,000 static workers, both profiles. Each case runs in its own child process so peak
// memory (maxRSS) belongs to that case.
// Goal (issue 2): 1,000 workers in under 1 s, cost linear in N. `npm run bench`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { HostFacts } from '../src/phases/host-facts.ts';
import { planFromFacts, type BinarySource } from '../src/phases/manager.ts';
import { plannedHosts } from '../src/providers/provider.ts';
import type { RenderedHost } from '../src/render/types.ts';
import { renderCluster } from '../src/render/cluster.ts';
import { parseCluster } from '../src/spec/cluster.ts';

type Profile = 'seed' | 'modern';
const SIZES = [10, 100, 1000, 5000];
const RUNS = 5;

interface Sample {
  profile: Profile;
  workers: number;
  /** the first render of this size in a fresh process (JIT still warming up) */
  coldMs: number;
  /** median of RUNS renders after that */
  ms: number;
  files: number;
  bytes: number;
  peakRssMb: number;
  heapMb: number;
  /** planning every host from empty facts (first apply) */
  planFreshMs: number;
  /** planning every host from facts equal to the desired state (no-op re-apply) */
  planNoopMs: number;
  freshActions: number;
  noopActions: number;
}

const BINARY_DIGEST = 'b'.repeat(64);
// every binary is already known by digest, so planning never downloads
const binaries: BinarySource = {
  knownInstalledDigest: async () => BINARY_DIGEST,
  binary: async () => {
    throw new Error('the benchmark plans only: no binary is fetched');
  },
};

function freshFacts(): HostFacts {
  return { os: 'ubuntu 24.04', arch: 'x86_64', systemd: 'systemd 255', freeDiskKb: 1e7, files: new Map(), missingDirs: new Set(), tempFiles: [], units: new Map() };
}

function convergedFacts(h: RenderedHost): HostFacts {
  const f = freshFacts();
  for (const file of h.files) f.files.set(file.path, { sha256: createHash('sha256').update(file.contents).digest('hex'), mode: file.mode });
  for (const b of h.binaries) f.files.set(b.path, { sha256: BINARY_DIGEST, mode: b.mode });
  for (const u of h.units) f.units.set(u.name, { activeState: 'active', invocationId: 'x', activeEnterTimestamp: 't', unitFileState: 'enabled', conditionResult: 'yes' });
  return f;
}

async function planAll(hosts: RenderedHost[], facts: (h: RenderedHost) => HostFacts): Promise<{ ms: number; actions: number }> {
  const inputs = hosts.map((h) => [h, facts(h)] as const);
  const t0 = process.hrtime.bigint();
  let actions = 0;
  for (const [h, f] of inputs) actions += (await planFromFacts(h.name, h, f, binaries, { fetchBinaries: false })).actions.length;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, actions };
}

function specText(profile: Profile, workers: number): string {
  const example = profile === 'seed' ? 'seed' : 'digitalocean';
  const doc = parse(readFileSync(new URL(`../examples/${example}.yaml`, import.meta.url), 'utf8')) as Record<string, unknown>;
  const kubernetes = doc['kubernetes'] as Record<string, unknown>;
  // full versions, so artifact URLs need no stable-<minor>.txt lookup
  kubernetes['version'] = profile === 'seed' ? '1.8.0' : '1.36.0';
  doc['provider'] = {
    static: {
      hosts: Array.from({ length: workers }, (_, i) => ({ name: `w${i}`, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` })),
    },
  };
  delete doc['workers'];
  return stringify(doc);
}

async function measureOne(profile: Profile, workers: number): Promise<Sample> {
  const cluster = parseCluster(specText(profile, workers), `bench-${profile}-${workers}.yaml`);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const times: number[] = [];
  const c0 = process.hrtime.bigint();
  let rendered = renderCluster({ cluster, hosts: plannedHosts(cluster) });
  const coldMs = Number(process.hrtime.bigint() - c0) / 1e6;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    rendered = renderCluster({ cluster, hosts: plannedHosts(cluster) });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const heapAfter = process.memoryUsage().heapUsed;
  const hosts = [...rendered.hosts.values()];
  const files = hosts.reduce((n, h) => n + h.files.length, rendered.cluster.length);
  const bytes = hosts.reduce((n, h) => n + h.files.reduce((m, f) => m + f.contents.length, 0), 0);
  times.sort((a, b) => a - b);
  const fresh = await planAll(hosts, freshFacts);
  const noop = await planAll(hosts, convergedFacts);
  return {
    planFreshMs: fresh.ms,
    planNoopMs: noop.ms,
    freshActions: fresh.actions,
    noopActions: noop.actions,
    profile,
    workers,
    coldMs,
    ms: times[Math.floor(times.length / 2)] ?? 0,
    files,
    bytes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapMb: (heapAfter - heapBefore) / 1024 / 1024,
  };
}

function pad(s: string, n: number): string {
  return s.padStart(n);
}

async function main(): Promise<void> {
  const [, , mode, profileArg, workersArg] = process.argv;
  if (mode === '--child') {
    process.stdout.write(JSON.stringify(await measureOne(profileArg as Profile, Number(workersArg))));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const samples: Sample[] = [];
  for (const profile of ['seed', 'modern'] as const) {
    for (const n of SIZES) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', profile, String(n)], { encoding: 'utf8' });
      samples.push(JSON.parse(out) as Sample);
    }
  }
  console.log(`render benchmark: plannedHosts + renderCluster, static workers, cold = first render in a fresh process, warm = median of ${RUNS} renders after it; node ${process.version}`);
  console.log('profile  workers   cold ms   warm ms   µs/node   ×linear    files      MB out   peak RSS MB   heap Δ MB');
  for (const s of samples) {
    const ref = samples.find((x) => x.profile === s.profile && x.workers === 1000);
    const perNode = (s.ms * 1000) / s.workers;
    const linear = ref ? perNode / ((ref.ms * 1000) / ref.workers) : NaN;
    console.log(
      `${s.profile.padEnd(7)}${pad(String(s.workers), 9)}${pad(s.coldMs.toFixed(1), 10)}${pad(s.ms.toFixed(1), 10)}${pad(perNode.toFixed(1), 10)}${pad(linear.toFixed(2), 10)}` +
        `${pad(String(s.files), 9)}${pad((s.bytes / 1024 / 1024).toFixed(1), 12)}${pad(s.peakRssMb.toFixed(0), 14)}${pad(s.heapMb.toFixed(1), 12)}`,
    );
  }
  console.log('\nplan benchmark: planFromFacts for every host (pure: no SSH), fresh = nothing on the host yet, no-op = facts equal the desired state');
  console.log('profile  workers  fresh ms  actions   no-op ms  actions   render+plan µs/node');
  for (const s of samples) {
    console.log(
      `${s.profile.padEnd(7)}${pad(String(s.workers), 9)}${pad(s.planFreshMs.toFixed(1), 10)}${pad(String(s.freshActions), 9)}${pad(s.planNoopMs.toFixed(1), 11)}${pad(String(s.noopActions), 9)}` +
        `${pad((((s.ms + s.planFreshMs) * 1000) / s.workers).toFixed(1), 22)}`,
    );
  }
  for (const profile of ['seed', 'modern'] as const) {
    const k = samples.find((x) => x.profile === profile && x.workers === 1000);
    if (k) {
      const total = k.coldMs + k.planFreshMs;
      console.log(`${profile}: 1,000 workers rendered in ${k.coldMs.toFixed(0)} ms cold (${k.ms.toFixed(0)} ms warm), render + fresh plan ${total.toFixed(0)} ms — goal < 1000 ms: ${total < 1000 ? 'met' : 'NOT met'}`);
    }
  }
}

await main();

// Benchmark (issue 16, the SSH side): plan, first apply and no-op apply over N hosts with
// --parallel P. The hosts: N - 3 hosts of the ssh scale harness (test/support/ssh-harness.ts, a
// TEST DOUBLE served from this process: ssh2's Server, in-memory files and systemd, checked
// against a lab machine in test/phases/ssh-harness-vs-lab.test.ts) plus 3 real OpenSSH hosts
// (test/support/sshd-hosts.ts: real sshd and SFTP, fake roots, a systemctl TEST DOUBLE) in the
// same run to keep the harness honest. The payload: the modern profile's real rendered files and
// units, and the stand-in binaries of test/support/artifact-mirror.ts (TEST DOUBLES: small
// scripts; KW_BENCH_BINARY_KIB pads them) from a local mirror with real checksums, in a warm
// artifact cache. Every unit (re)start waits the settle time a real host waits (0.5 s).
//
// kubewright runs as its own process (bin/kubewright.mjs on a fresh `npm run build`), as a user
// runs it; this process samples its /proc every 100 ms: peak RSS (VmHWM), the most open fds (at
// start, ESM loading holds ~800 module files open at once: a constant), of them sockets, and its
// CPU time (the last sample: up to 100 ms short); the harness's CPU time is this process's.
// The harness counts the SSH connections open at once (its own hosts; the 3 sshd hosts add at
// most 3). Goals on 2 cores: a no-op plan of 1,000 hosts < 20 s with peak RSS < 500 MB; memory
// linear in N; connections <= --parallel.
//
// Run: npm run -s bench:scale-ssh   (KW_BENCH_N=100,300,1000 KW_BENCH_PARALLEL=10,50,200
//      KW_BENCH_SKIP=1000x10 skips cells, e.g. a first apply that takes too long)
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { plannedHosts } from '../src/providers/provider.ts';
import { renderCluster } from '../src/render/cluster.ts';
import { parseCluster } from '../src/spec/cluster.ts';
import { buildArtifactMirror } from '../test/support/artifact-mirror.ts';
import { staticSpecYaml } from '../test/support/lab-spec.ts';
import { SshHarness } from '../test/support/ssh-harness.ts';
import { startSshdHosts } from '../test/support/sshd-hosts.ts';

const run = promisify(execFile);
const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const list = (v: string | undefined, d: number[]): number[] => (v ? v.split(',').map(Number) : d);
const SIZES = list(process.env['KW_BENCH_N'], [100, 300, 1000]);
const PARALLEL = list(process.env['KW_BENCH_PARALLEL'], [10, 50, 200]);
const SKIP = new Set((process.env['KW_BENCH_SKIP'] ?? '').split(',').filter(Boolean));
const BINARY_KIB = Number(process.env['KW_BENCH_BINARY_KIB'] ?? 0);
const REAL = 3;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Measured {
  wallMs: number;
  peakRssKb: number;
  maxFds: number;
  maxSockets: number;
  /** kubewright's CPU seconds (its last sample) and this process's (the harness) during the run */
  cpu: number;
  harnessCpu: number;
  maxConnections: number;
  stdout: string;
}

/** user + system CPU seconds of a process so far (/proc/pid/stat, in clock ticks of 1/100 s) */
async function cpuSec(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return f.length > 13 ? (Number(f[11]) + Number(f[12])) / 100 : undefined;
}

async function procStatus(pid: number): Promise<{ hwm: number; fds: number; sockets: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  const list = await readdir(`/proc/${pid}/fd`).catch(() => []);
  let sockets = 0;
  for (const f of list) if ((await readlink(`/proc/${pid}/fd/${f}`).catch(() => '')).startsWith('socket:')) sockets++;
  return { hwm, fds: list.length, sockets };
}

/** kubewright as a user runs it, sampled while it runs. */
async function kubewright(args: string[], env: NodeJS.ProcessEnv, harness: SshHarness): Promise<Measured> {
  harness.resetConnectionCount();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(repo, 'bin/kubewright.mjs'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
  let peakRssKb = 0;
  let maxFds = 0;
  let maxSockets = 0;
  let cpu = 0;
  const harnessCpuBefore = process.cpuUsage();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const s = await procStatus(child.pid!);
      peakRssKb = Math.max(peakRssKb, s.hwm);
      maxFds = Math.max(maxFds, s.fds);
      maxSockets = Math.max(maxSockets, s.sockets);
      cpu = (await cpuSec(child.pid!)) ?? cpu;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  done = true;
  await sampler;
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const h = process.cpuUsage(harnessCpuBefore);
  const harnessCpu = (h.user + h.system) / 1e6;
  if (code !== 0) throw new Error(`kubewright ${args.join(' ')} exited ${code}\n${stdout.slice(-3000)}\n${stderr}`);
  return { wallMs, peakRssKb, maxFds, maxSockets, cpu, harnessCpu, maxConnections: harness.connections.max, stdout };
}

interface Row {
  n: number;
  parallel: number;
  step: string;
  m: Measured;
  load: string;
}

async function cell(n: number, parallel: number, dir: string, env: NodeJS.ProcessEnv, mirror: (cluster: ReturnType<typeof parseCluster>) => Promise<Record<string, string>>): Promise<Row[]> {
  const sshd = await startSshdHosts(REAL, 'real');
  const harness = await SshHarness.start({ count: n - REAL, clientPublicKey: await readFile(`${sshd.privateKeyPath}.pub`, 'utf8') });
  try {
    const knownHostsPath = join(dir, `known_hosts-${n}-${parallel}`);
    await writeFile(knownHostsPath, harness.knownHosts() + (await readFile(sshd.knownHostsPath, 'utf8')));
    const lab = { dir: join(dir, `cell-${n}-${parallel}`), hosts: [...sshd.hosts, ...harness.hosts], privateKeyPath: sshd.privateKeyPath, knownHostsPath };
    const specFile = join(dir, `cluster-${n}-${parallel}.yaml`);
    const text = (pins?: Record<string, string>): string => staticSpecYaml({ name: `scale${n}`, lab, mirror: join(dir, 'mirror'), pins });
    await writeFile(specFile, text(await mirror(parseCluster(text(), specFile))));
    const rows: Row[] = [];
    const step = async (name: string, args: string[], expect: RegExp): Promise<void> => {
      process.stderr.write(`bench: N=${n} --parallel ${parallel}: ${name} (load ${load()})\n`);
      const m = await kubewright([...args, '-f', specFile, '--parallel', String(parallel)], env, harness);
      if (!expect.test(m.stdout)) throw new Error(`${name}: unexpected summary\n${m.stdout.slice(-2000)}`);
      if (harness.unrecognised.length > 0) throw new Error(`the harness did not recognise: ${harness.unrecognised.slice(0, 3).join('\n')}`);
      rows.push({ n, parallel, step: name, m, load: load() });
    };
    await step('plan', ['plan'], new RegExp(`${n} to change, 0 unchanged, 0 failed`));
    if (SKIP.has(`${n}x${parallel}`)) {
      process.stderr.write(`bench: N=${n} --parallel ${parallel}: first apply skipped (KW_BENCH_SKIP)\n`);
      return rows;
    }
    await step('first apply', ['apply', '--wait-timeout', '60s'], new RegExp(`0 failed`));
    await step('no-op apply', ['apply'], new RegExp(`0 to change, ${n} unchanged, 0 failed`));
    await step('no-op plan', ['plan'], new RegExp(`0 to change, ${n} unchanged, 0 failed`));
    return rows;
  } finally {
    await harness.stop();
    await sshd.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/scale-ssh needs root (the real sshd hosts)');
  const loadBefore = load();
  process.stderr.write('bench: npm run build\n');
  await run('npm', ['run', '-s', 'build'], { cwd: repo });
  const dir = await mkdtemp(join(tmpdir(), 'kw-bench-scale-ssh-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KUBEWRIGHT_CACHE_DIR: join(dir, 'cache'), CI: '1' };
  let pins: Record<string, string> | undefined;
  // one mirror (and so one warm cache) for every cell: the binaries do not depend on the hosts
  const mirror = async (cluster: ReturnType<typeof parseCluster>): Promise<Record<string, string>> => {
    if (pins) return pins;
    const binaries = renderCluster({ cluster, hosts: plannedHosts(cluster), kubernetesVersion: '1.36.2' }).hosts.values().next().value!.binaries;
    pins = (await buildArtifactMirror(join(dir, 'mirror'), binaries, { stable: { minor: '1.36', version: 'v1.36.2' }, padToBytes: BINARY_KIB * 1024 })).pins;
    return pins;
  };
  const rows: Row[] = [];
  try {
    for (const n of SIZES) for (const p of PARALLEL) rows.push(...(await cell(n, p, dir, env, mirror)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `kubewright plan/apply over N SSH hosts (${REAL} real sshd + N-${REAL} ssh-harness TEST DOUBLES), stand-in binaries${BINARY_KIB ? ` padded to ${BINARY_KIB} KiB` : ''}, warm cache; load before: ${loadBefore}`,
    '| N | --parallel | step | wall | kubewright CPU | harness CPU | peak RSS | max fds (sockets) | max SSH connections (harness) | load after |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.n} | ${r.parallel} | ${r.step} | ${sec(r.m.wallMs)} | ${r.m.cpu.toFixed(1)} s | ${r.m.harnessCpu.toFixed(1)} s | ${Math.round(r.m.peakRssKb / 1024)} MB | ${r.m.maxFds} (${r.m.maxSockets}) | ${r.m.maxConnections} | ${r.load} |`),
  ];
  const noopPlan = rows.filter((r) => r.n === 1000 && (r.step === 'plan' || r.step === 'no-op plan'));
  for (const r of noopPlan.filter((x) => x.step === 'no-op plan')) {
    lines.push(`goal: no-op plan of 1,000 hosts < 20 s, RSS < 500 MB at --parallel ${r.parallel}: ${r.m.wallMs < 20_000 && r.m.peakRssKb < 500 * 1024 ? 'met' : 'NOT met'} (${sec(r.m.wallMs)}, ${Math.round(r.m.peakRssKb / 1024)} MB)`);
  }
  const over = rows.filter((r) => r.m.maxConnections > r.parallel);
  lines.push(`goal: SSH connections <= --parallel: ${over.length === 0 ? 'met in every run' : `NOT met in ${over.length} run(s)`}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

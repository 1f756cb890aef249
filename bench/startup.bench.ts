// Benchmark: start-up of the shipped CLI (bin/ → dist/, plain node, no tsx), each run a separate
// process: `kubewright --version` and `kubewright render` of the starter spec (`kubewright init`),
// next to `kubectl version --client` and `terraform version` as references when installed.
// Goal (issue 13): --version median ≤ 150 ms, render ≤ 400 ms. Wall time and CPU time (user+sys) are
// both shown: on a loaded machine the wall time includes waiting for a core.
// Run: npm run bench:startup   (builds dist/ first when it is missing; KW_BENCH_RUNS, default 15)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const runs = Math.max(10, Number(process.env['KW_BENCH_RUNS'] ?? 15));
const bin = join(repo, 'bin/kubewright.mjs');

if (!existsSync(join(repo, 'dist/cli/main.js'))) {
  console.log('dist/ missing: npm run build');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
}

interface Sample { wallMs: number; cpuMs: number }

function measure(cmd: string, args: string[], cwd: string): Sample | undefined {
  // CPU time of the child alone: /usr/bin/time reports it; fall back to wall time only
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { cwd, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) return undefined;
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [u, s] = last.split(' ').map(Number);
  return { wallMs, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

const dir = mkdtempSync(join(tmpdir(), 'kw-bench-startup-'));
try {
  execFileSync(process.execPath, [bin, 'init', '-f', 'cluster.yaml'], { cwd: dir });
  const cases: { name: string; cmd: string; args: string[]; goalMs?: number }[] = [
    { name: 'kubewright --version', cmd: process.execPath, args: [bin, '--version'], goalMs: 150 },
    { name: 'kubewright render (starter spec)', cmd: process.execPath, args: [bin, 'render', '-f', 'cluster.yaml', '--out', 'rendered'], goalMs: 400 },
    { name: 'node -e 0 (floor)', cmd: process.execPath, args: ['-e', '0'] },
  ];
  if (onPath('kubectl')) cases.push({ name: 'kubectl version --client', cmd: 'kubectl', args: ['version', '--client'] });
  if (onPath('terraform')) cases.push({ name: 'terraform version', cmd: 'terraform', args: ['version'] });

  const rows: string[][] = [['COMMAND', 'RUNS', 'MEDIAN', 'MIN', 'MAX', 'CPU MEDIAN', 'GOAL', 'MET']];
  for (const c of cases) {
    measure(c.cmd, c.args, dir); // warm the page cache
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const s = measure(c.cmd, c.args, dir);
      if (s) samples.push(s);
    }
    if (samples.length === 0) {
      rows.push([c.name, '0', 'failed', '', '', '', '', '']);
      continue;
    }
    const wall = samples.map((s) => s.wallMs);
    const med = median(wall);
    rows.push([
      c.name, String(samples.length), `${med.toFixed(0)} ms`, `${Math.min(...wall).toFixed(0)} ms`, `${Math.max(...wall).toFixed(0)} ms`,
      `${median(samples.map((s) => s.cpuMs)).toFixed(0)} ms`,
      c.goalMs === undefined ? '' : `≤ ${c.goalMs} ms`, c.goalMs === undefined ? '' : med <= c.goalMs ? 'yes' : 'no',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  console.log(`load average during the run: ${load} (${runs} runs each, medians)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

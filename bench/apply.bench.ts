// Benchmark (issue 13): apply on N lab machines — systemd-nspawn containers booting real systemd
// (provider: lab) — kubewright against Ansible with the same rendered payload, and against a
// one-shot floor: one `ssh` per host, all hosts at once, that stats every managed path and unit.
// Payload: the modern profile's real rendered files and units, and stand-in binaries (TEST
// DOUBLES from test/support/artifact-mirror.ts) padded to real sizes (KW_BENCH_BINARY_MIB,
// default 20) served from a local mirror with real checksums.
//
// Prints one side-by-side table with the goals of issue 13, each marked met or NOT met:
//   no-op ≥ 40× faster than Ansible and within 1.4× of the floor; first apply (warm artifact
//   cache) ≥ 10× faster than Ansible; a no-op with an empty artifact cache within 1.2× of a warm one.
// kubewright runs as its own process (bin/kubewright.mjs on a fresh `npm run build`), as a user
// runs it. Ansible gets the machines fresh (lab down + up) for its first apply.
//
// Needs root, the lab image (kubewright lab up builds it) and ansible-core
// (`apt-get install -y ansible-core`; bench only, not CI). Ansible needs python3 on the machines:
// the bench builds a copy of the lab image with python3 once ($XDG_CACHE_HOME/kubewright/
// rootfs-bookworm-python; apt inside a chroot, so it needs the Debian mirror once).
// Run: KW_BENCH_HOSTS=10 KW_BENCH_RUNS=3 node --import tsx bench/apply.bench.ts
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { providerFor } from '../src/providers/provider-for.ts';
import { LabProvider } from '../src/providers/lab/lab-provider.ts';
import { defaultRootfsDir, ensureRootfsImage, isRootfsReady } from '../src/providers/lab/rootfs-image.ts';
import { renderCluster } from '../src/render/cluster.ts';
import { unitName } from '../src/render/unit-file.ts';
import { prepareRun } from '../src/run/prepare-run.ts';
import { parseCluster } from '../src/spec/cluster.ts';
import type { Host } from '../src/spec/host.ts';
import { buildArtifactMirror } from '../test/support/artifact-mirror.ts';
import { freeSubnet } from '../test/support/free-subnet.ts';
import { labSpecYaml } from '../test/support/lab-spec.ts';

const run = promisify(execFile);
const N = Number(process.env['KW_BENCH_HOSTS'] ?? 10);
const RUNS = Number(process.env['KW_BENCH_RUNS'] ?? 3);
const BINARY_MIB = Number(process.env['KW_BENCH_BINARY_MIB'] ?? 20);
const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The lab image plus python3 (Ansible's modules run on it), built once beside the lab image. */
async function pythonImage(): Promise<string> {
  const dir = process.env['KW_BENCH_PYTHON_ROOTFS'] ?? `${defaultRootfsDir()}-python`;
  if (isRootfsReady(dir) && existsSync(join(dir, 'usr/bin/python3'))) return dir;
  const base = await ensureRootfsImage({ progress: (l) => process.stderr.write(`${l}\n`) });
  const tmp = `${dir}.building-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await cp(base, tmp, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  await copyFile('/etc/resolv.conf', join(tmp, 'etc/resolv.conf'));
  process.stderr.write(`bench: adding python3 to a copy of the lab image in ${dir}\n`);
  await run('chroot', [tmp, 'sh', '-c', 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 >/dev/null 2>&1; rc=$?; apt-get clean; rm -rf /var/lib/apt/lists/*; exit $rc'], { maxBuffer: 64 * 1024 * 1024 });
  await writeFile(join(tmp, 'etc/resolv.conf'), '');
  await rename(tmp, dir);
  return dir;
}

/** kubewright as a user runs it: its own process, the compiled CLI. */
async function kubewright(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(process.execPath, [join(repo, 'bin/kubewright.mjs'), ...args], { env, maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`kubewright ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-2000)}`);
  });
  return r.stdout;
}

/** One `ssh` per host, all at once: stat every managed path, show every unit's state. */
async function floor(hosts: readonly Host[], key: string, knownHosts: string, paths: readonly string[], units: readonly string[]): Promise<void> {
  const cmd = `stat -c '%i %s %Y %Z %a %n' ${paths.join(' ')}; systemctl show -p Id,ActiveState,InvocationID,UnitFileState ${units.join(' ')}`;
  await Promise.all(
    hosts.map(
      (h) =>
        new Promise<void>((ok, fail) => {
          const p = spawn('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-i', key, `root@${h.address}`, cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`floor ssh to ${h.name} exited ${code}: ${err}`))));
        }),
    ),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/apply needs root (lab machines: systemd-nspawn and a bridge)');
  await run('ansible-playbook', ['--version']).catch(() => {
    throw new Error('bench/apply needs ansible-core: apt-get install -y ansible-core');
  });
  const loadBefore = load();
  process.stderr.write('bench: npm run build\n');
  await run('npm', ['run', '-s', 'build'], { cwd: repo });
  const rootfs = await pythonImage();

  const tag = randomBytes(2).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'kw-bench-apply-'));
  const bridge = `kwb${tag}`;
  const subnet = await freeSubnet(216, 100, 100);
  const env: NodeJS.ProcessEnv = { ...process.env, KUBEWRIGHT_LAB_STATE_DIR: join(dir, 'lab-state'), KUBEWRIGHT_CACHE_DIR: join(dir, 'cache'), KUBEWRIGHT_LAB_ROOTFS: rootfs, CI: '1' };
  Object.assign(process.env, { KUBEWRIGHT_LAB_STATE_DIR: env['KUBEWRIGHT_LAB_STATE_DIR'], KUBEWRIGHT_CACHE_DIR: env['KUBEWRIGHT_CACHE_DIR'] });
  const specFile = join(dir, 'cluster.yaml');
  const specText = (pins: Record<string, string>): string => labSpecYaml({ name: `kwb${tag}`, hosts: N, subnet, bridge, pkiDir: './pki', pins });
  await writeFile(specFile, specText({}));
  let cluster = parseCluster(specText({}), specFile);
  const provider = new LabProvider(cluster, { rootfsDir: rootfs });
  const anDir = join(dir, 'ansible');
  try {
    process.stderr.write(`bench: booting ${N} lab machines\n`);
    let hosts = await provider.boot();
    const binaries = renderCluster({ cluster, hosts, kubernetesVersion: '1.36.2' }).hosts.values().next().value!.binaries;
    process.stderr.write(`bench: building the mirror (${binaries.length} binaries of ${BINARY_MIB} MiB)\n`);
    const mirror = await buildArtifactMirror(join(dir, 'mirror'), binaries, { stable: { minor: '1.36', version: 'v1.36.2' }, padToBytes: BINARY_MIB * 1024 * 1024 });
    await writeFile(specFile, specText(mirror.pins));
    cluster = parseCluster(specText(mirror.pins), specFile);

    // the payload both tools install: kubewright's rendered state, PKI included
    const prepared = await prepareRun(cluster, { mode: 'apply', acceptNewHostKeys: false, hosts: await providerFor(cluster).recorded() });
    const targets = prepared.targets;
    const h0 = targets[0]!.desired;
    const paths = [...new Set([...h0.files.map((f) => f.path), ...h0.binaries.map((b) => b.path)])];
    const units = [...new Set(h0.units.map((u) => unitName(u.name)))];
    const payload = `${h0.files.length} files + ${h0.binaries.length} binaries (${BINARY_MIB} MiB each) = ${paths.length} managed paths, ${units.length} units per host`;
    // a warm artifact cache: every binary fetched and verified once before timing
    for (const b of h0.binaries) await prepared.store.binary(b);

    const key = join(dir, 'id_ed25519');
    const knownHosts = join(dir, 'known_hosts');
    const apply = (cacheDir: string): Promise<string> => kubewright(['apply', '-f', specFile, '--wait-timeout', '60s'], { ...env, KUBEWRIGHT_CACHE_DIR: cacheDir });

    process.stderr.write(`bench: kubewright first apply (load ${load()})\n`);
    const kwFirst = await timed(async () => void (await apply(env['KUBEWRIGHT_CACHE_DIR']!)));
    const kwNoop: number[] = [];
    const kwNoopCold: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`bench: no-op run ${i + 1}/${RUNS} (load ${load()})\n`);
      kwNoop.push(await timed(async () => {
        const out = await apply(env['KUBEWRIGHT_CACHE_DIR']!);
        if (!/ 0 to change, \d+ unchanged, 0 failed/.test(out)) throw new Error(`kubewright re-apply was not a no-op:\n${out.slice(-3000)}`);
      }));
      const empty = join(dir, `empty-cache-${i}`);
      kwNoopCold.push(await timed(async () => void (await apply(empty))));
      floorMs.push(await timed(() => floor(hosts, key, knownHosts, paths, units)));
    }

    // Ansible: the same files (per host), the same verified binaries, the same units, on fresh machines
    process.stderr.write('bench: fresh machines for Ansible (lab down + up)\n');
    await provider.destroy(async () => true);
    hosts = await provider.boot();
    const files = join(anDir, 'files');
    for (const t of targets) {
      for (const f of t.desired.files) {
        await mkdir(dirname(join(files, t.host.name, f.path)), { recursive: true });
        await writeFile(join(files, t.host.name, f.path), f.contents);
      }
    }
    const local = await Promise.all(h0.binaries.map(async (b) => ({ src: (await prepared.store.binary(b)).localPath, path: b.path, mode: `0${b.mode.toString(8)}` })));
    const dirs = [...new Set(paths.map((p) => dirname(p)))].sort();
    const inventory = [
      '[workers]',
      ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_user=root`),
      '[workers:vars]',
      `ansible_ssh_private_key_file=${key}`,
      `ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'`,
      'ansible_python_interpreter=/usr/bin/python3',
    ].join('\n');
    await writeFile(join(anDir, 'inventory.ini'), `${inventory}\n`);
    const playbook = {
      hosts: 'workers',
      gather_facts: false,
      vars: { dirs, binaries: local, files: h0.files.map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}` })), units },
      tasks: [
        { name: 'directories', file: { path: '{{ item }}', state: 'directory', mode: '0755' }, loop: '{{ dirs }}' },
        { name: 'binaries', copy: { src: '{{ item.src }}', dest: '{{ item.path }}', mode: '{{ item.mode }}' }, loop: '{{ binaries }}', notify: 'restart units' },
        { name: 'files', copy: { src: `${files}/{{ inventory_hostname }}{{ item.path }}`, dest: '{{ item.path }}', mode: '{{ item.mode }}' }, loop: '{{ files }}', register: 'written', notify: 'restart units' },
        { name: 'daemon-reload', systemd: { daemon_reload: true }, when: 'written.changed' },
        { name: 'units', systemd: { name: '{{ item }}', enabled: true, state: 'started' }, loop: '{{ units }}' },
      ],
      // simpler than kubewright (which restarts only the units whose inputs changed): any change restarts all
      handlers: [{ name: 'restart units', systemd: { name: '{{ item }}', state: 'restarted' }, loop: '{{ units }}' }],
    };
    await writeFile(join(anDir, 'playbook.json'), JSON.stringify([playbook], null, 2));
    await writeFile(join(anDir, 'ansible.cfg'), `[defaults]\nforks = 10\nhost_key_checking = True\ninterpreter_python = /usr/bin/python3\n[ssh_connection]\npipelining = True\ncontrol_path_dir = ${join(anDir, 'cp')}\nssh_args = -o ControlMaster=auto -o ControlPersist=60s\n`);
    const ansible = async (): Promise<string> => {
      const r = await run('ansible-playbook', ['-i', join(anDir, 'inventory.ini'), join(anDir, 'playbook.json')], {
        cwd: anDir,
        env: { ...process.env, ANSIBLE_CONFIG: join(anDir, 'ansible.cfg'), ANSIBLE_LOCAL_TEMP: join(anDir, 'tmp'), ANSIBLE_HOME: join(anDir, 'home') },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`ansible-playbook failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-2000)}`);
      });
      return r.stdout;
    };
    process.stderr.write(`bench: Ansible first apply (load ${load()})\n`);
    const anFirst = await timed(async () => void (await ansible()));
    const anNoop: number[] = [];
    let recap = '';
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`bench: Ansible no-op run ${i + 1}/${RUNS} (load ${load()})\n`);
      anNoop.push(await timed(async () => void (recap = await ansible())));
    }
    const changed = [...recap.matchAll(/changed=(\d+)/g)].map((x) => Number(x[1]));

    const kw = median(kwNoop);
    const rows: [string, string, string, string, string][] = [
      ['', 'kubewright', 'Ansible', 'floor', 'goal'],
      [`no-op (median of ${RUNS})`, sec(kw), sec(median(anNoop)), sec(median(floorMs)), ''],
      ['first apply, warm cache', sec(kwFirst), sec(anFirst), '', ''],
      [`no-op, empty cache (median of ${RUNS})`, sec(median(kwNoopCold)), '', '', ''],
    ];
    const goals: [string, number, boolean][] = [
      ['no-op ≥ 40× faster than Ansible', median(anNoop) / kw, median(anNoop) / kw >= 40],
      ['no-op within 1.4× of the floor', kw / median(floorMs), kw / median(floorMs) <= 1.4],
      ['first apply (warm cache) ≥ 10× faster than Ansible', anFirst / kwFirst, anFirst / kwFirst >= 10],
      ['no-op with an empty cache within 1.2× of a warm one', median(kwNoopCold) / kw, median(kwNoopCold) / kw <= 1.2],
    ];
    const out: string[] = [];
    out.push(`apply benchmark: ${N} lab machines (systemd-nspawn, real systemd), ${payload}`);
    out.push(`machine: ${(await run('nproc')).stdout.trim()} cores; load average ${loadBefore} before, ${load()} after`);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) out.push(r.slice(0, 4).map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   '));
    out.push('goals (issue 13):');
    for (const [what, ratio, met] of goals) out.push(`  ${what.padEnd(52)} ${ratio.toFixed(2).padStart(7)}×   ${met ? 'met' : 'NOT met'}`);
    out.push(`kubewright no-ops: ${kwNoop.map(sec).join(', ')}; empty cache: ${kwNoopCold.map(sec).join(', ')}; floor: ${floorMs.map(sec).join(', ')}; Ansible no-ops: ${anNoop.map(sec).join(', ')}`);
    out.push(`Ansible's last re-run reported changed=${changed.join('/')} per host`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const sock of await readdir(join(anDir, 'cp')).catch(() => [] as string[])) {
      await run('ssh', ['-F', '/dev/null', '-o', `ControlPath=${join(anDir, 'cp', sock)}`, '-O', 'exit', 'kubewright-bench']).catch(() => undefined);
    }
    await provider.destroy(async () => true).catch((e: unknown) => process.stderr.write(`bench: lab down failed: ${String(e)}\n`));
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

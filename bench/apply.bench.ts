// Benchmark: first apply and no-op re-apply on 10 loopback sshd hosts (fake roots; systemctl is
// the TEST DOUBLE from test/support/sshd-hosts.ts), kubewright vs an Ansible playbook that
// manages the same files, binaries and units with file/copy/systemd tasks over the same kind
// of hosts. Payload: the modern profile's real rendered files + stand-in binaries from a local
// mirror. Needs root (sshd) and ansible-core (`apt-get install ansible-core`; not in CI).
// Goal (issue 5): no-op ≥ 20× faster than Ansible. Run: node --import tsx bench/apply.bench.ts
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import { plannedHosts } from '../src/providers/provider.ts';
import { renderCluster } from '../src/render/cluster.ts';
import { parseCluster } from '../src/spec/cluster.ts';
import { buildArtifactMirror } from '../test/support/artifact-mirror.ts';
import { startSshdHosts, type SshdHosts } from '../test/support/sshd-hosts.ts';
import { runCli } from '../test/helpers/run-cli.ts';

const run = promisify(execFile);
// KW_BENCH_HOSTS (default 10) and KW_BENCH_NOOP_RUNS (default 3); Ansible needs minutes per run here
const N = Number(process.env['KW_BENCH_HOSTS'] ?? 10);

function spec(lab: SshdHosts, mirror: string, pins: Record<string, string>): string {
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: bench }
kubernetes: { version: "1.36.2", apiServer: "https://127.0.0.1:6443" }
provider:
  static:
    hosts:
${lab.hosts.map((h, i) => `      - { name: ${h.name}, address: 127.0.0.1, port: ${h.port}, privateAddress: 10.0.0.${i + 10} }`).join('\n')}
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
pki: { dir: ${join(lab.dir, 'pki')} }
ssh: { user: root, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }
artifacts:
  mirror: ${mirror}
  checksums:
${Object.entries(pins).map(([u, s]) => `    "${u}": ${s}`).join('\n') || '    {}'}
`;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const kw = await startSshdHosts(N, 'kb');
  const an = await startSshdHosts(N, 'ab');
  try {
    // the payload, rendered once per tool's host names
    const mirror = join(kw.dir, 'mirror');
    const probe = parseCluster(spec(kw, mirror, {}), join(kw.dir, 'cluster.yaml'));
    const binaries = renderCluster({ cluster: probe, hosts: plannedHosts(probe), kubernetesVersion: '1.36.2' }).hosts[0]!.binaries;
    const m = await buildArtifactMirror(mirror, binaries);
    const specFile = join(kw.dir, 'cluster.yaml');
    await writeFile(specFile, spec(kw, mirror, m.pins));
    process.env['KUBEWRIGHT_TEST_HOST_ROOTS'] = JSON.stringify(Object.fromEntries(kw.hosts.map((h) => [h.name, h.root])));
    process.env['KUBEWRIGHT_CACHE_DIR'] = join(kw.dir, 'cache');

    // Ansible: the same rendered files (for its host names), the same verified binaries
    const aCluster = parseCluster(spec(an, mirror, m.pins), join(an.dir, 'cluster.yaml'));
    const rendered = renderCluster({ cluster: aCluster, hosts: plannedHosts(aCluster) });
    const store = new ArtifactStore({ mirror, pins: m.pins, cacheDir: join(an.dir, 'cache') });
    const files = join(an.dir, 'files');
    for (const h of rendered.hosts) {
      for (const f of h.files) {
        await mkdir(dirname(join(files, h.name, f.path)), { recursive: true });
        await writeFile(join(files, h.name, f.path), f.contents);
      }
    }
    const local = await Promise.all(binaries.map(async (b) => ({ src: (await store.binary(b)).localPath, path: b.path, mode: `0${b.mode.toString(8)}` })));
    const h0 = rendered.hosts[0]!;
    const dirs = [...new Set([...h0.files.map((f) => f.path), ...binaries.map((b) => b.path)].map((p) => dirname(p)))].sort();
    const inventory = [
      '[workers]',
      ...an.hosts.map((h) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root root=${h.root}`),
      '[workers:vars]',
      `ansible_ssh_private_key_file=${an.privateKeyPath}`,
      `ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=${an.knownHostsPath} -o StrictHostKeyChecking=yes'`,
      'ansible_python_interpreter=/usr/bin/python3',
    ].join('\n');
    await writeFile(join(an.dir, 'inventory.ini'), `${inventory}\n`);
    const playbook = {
      hosts: 'workers',
      gather_facts: false,
      vars: {
        dirs,
        binaries: local,
        files: h0.files.map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}` })),
        units: h0.units.map((u) => u.name),
      },
      tasks: [
        { name: 'directories', file: { path: '{{ root }}{{ item }}', state: 'directory', mode: '0755' }, loop: '{{ dirs }}' },
        { name: 'binaries', copy: { src: '{{ item.src }}', dest: '{{ root }}{{ item.path }}', mode: '{{ item.mode }}' }, loop: '{{ binaries }}', notify: 'restart units' },
        {
          name: 'files',
          copy: { src: `${files}/{{ inventory_hostname }}{{ item.path }}`, dest: '{{ root }}{{ item.path }}', mode: '{{ item.mode }}' },
          loop: '{{ files }}',
          register: 'written',
          notify: 'restart units',
        },
        { name: 'daemon-reload', systemd: { daemon_reload: true }, when: 'written.changed' },
        { name: 'units', systemd: { name: '{{ item }}', enabled: true, state: 'started' }, loop: '{{ units }}' },
      ],
      // simpler than kubewright (which restarts only the units whose inputs changed): any change restarts all
      handlers: [{ name: 'restart units', systemd: { name: '{{ item }}', state: 'restarted' }, loop: '{{ units }}' }],
    };
    await writeFile(join(an.dir, 'playbook.json'), JSON.stringify([playbook], null, 2));
    await writeFile(join(an.dir, 'ansible.cfg'), `[defaults]\nforks = 10\nhost_key_checking = True\ninterpreter_python = /usr/bin/python3\n[ssh_connection]\npipelining = True\ncontrol_path_dir = ${join(an.dir, 'cp')}\nssh_args = -o ControlMaster=auto -o ControlPersist=10s\n`);
    const ansible = async (): Promise<string> => {
      const r = await run('ansible-playbook', ['-i', join(an.dir, 'inventory.ini'), join(an.dir, 'playbook.json')], {
        cwd: an.dir,
        env: { ...process.env, ANSIBLE_CONFIG: join(an.dir, 'ansible.cfg'), ANSIBLE_LOCAL_TEMP: join(an.dir, 'tmp'), ANSIBLE_HOME: join(an.dir, 'home') },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`ansible-playbook failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-2000)}`);
      });
      if (process.env['KW_BENCH_VERBOSE']) process.stderr.write(r.stdout);
      return r.stdout;
    };
    const kubewright = async (): Promise<void> => {
      const r = await runCli('apply', '-f', specFile);
      if (r.code !== 0) throw new Error(`kubewright apply failed:\n${r.stdout}\n${r.stderr}`);
    };

    const kwFirst = await timed(kubewright);
    let recap = '';
    const anFirst = await timed(async () => {
      recap = await ansible();
    });
    const kwNoop: number[] = [];
    const anNoop: number[] = [];
    const noopRuns = Number(process.env['KW_BENCH_NOOP_RUNS'] ?? 3);
    for (let i = 0; i < noopRuns; i++) {
      kwNoop.push(await timed(kubewright));
      anNoop.push(await timed(async () => {
        recap = await ansible();
      }));
    }
    const changed = [...recap.matchAll(/changed=(\d+)/g)].map((x) => Number(x[1]));
    if (changed.some((c) => c !== 0)) throw new Error(`ansible re-run was not a no-op:\n${recap.slice(-2000)}`);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rows = [
      ['first apply', kwFirst, anFirst],
      [`no-op re-apply (median of ${noopRuns})`, median(kwNoop), median(anNoop)],
    ] as const;
    const payload = `${h0.files.length} files, ${binaries.length} binaries, ${h0.units.length} units per host`;
    process.stdout.write(`apply benchmark: ${N} loopback sshd hosts, ${payload}\n`);
    for (const [what, k, a] of rows) {
      process.stdout.write(`${what.padEnd(30)} kubewright ${(k / 1000).toFixed(2).padStart(6)} s   ansible ${(a / 1000).toFixed(2).padStart(6)} s   ratio ${(a / k).toFixed(1)}×\n`);
    }
    process.stdout.write(`goal: no-op ≥ 20× faster than Ansible — ${median(anNoop) / median(kwNoop) >= 20 ? 'met' : 'NOT met'}\n`);
  } finally {
    delete process.env['KUBEWRIGHT_TEST_HOST_ROOTS'];
    delete process.env['KUBEWRIGHT_CACHE_DIR'];
    // ansible's ssh multiplexers: ask each to exit, they are bound to the (now stopped) hosts
    for (const sock of await readdir(join(an.dir, 'cp')).catch(() => [] as string[])) {
      await run('ssh', ['-F', '/dev/null', '-o', `ControlPath=${join(an.dir, 'cp', sock)}`, '-O', 'exit', 'kubewright-bench']).catch(() => undefined);
    }
    await kw.stop();
    await an.stop();
  }
}

await main();

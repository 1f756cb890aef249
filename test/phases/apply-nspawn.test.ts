// Apply with real systemd: 3 systemd-nspawn machines from the lab provider (own bridge and
// subnet), the modern profile's real rendered files, stand-in binaries (TEST DOUBLES from
// test/support/artifact-mirror.ts that stay running) served from a local mirror with real
// checksums. Units really get enabled, started and restarted. Needs root.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { withResolvedVersion } from '../../src/artifacts/resolve-kubernetes-version.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { prepareRun } from '../../src/run/prepare-run.ts';
import { runHosts } from '../../src/run/run-hosts.ts';
import type { Host } from '../../src/spec/host.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { providerFor } from '../../src/providers/provider-for.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { CountingExecutor } from './fixture-host.ts';
import { freeSubnet } from '../support/free-subnet.ts';

const run = promisify(execFile);
const skip = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;
const units = ['etcd-lookup.service', 'flanneld.service', 'containerd.service', 'kubelet.service', 'kube-proxy.service'];

describe('apply on 3 systemd-nspawn hosts', { skip }, () => {
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwa${tag}`;
  let dir = '';
  let spec = '';
  let specText: (dns: string) => string;
  let provider: LabProvider;
  let hosts: Host[] = [];
  const savedEnv = { state: process.env['KUBEWRIGHT_LAB_STATE_DIR'], cache: process.env['KUBEWRIGHT_CACHE_DIR'] };

  /** unit → `InvocationID ActiveEnterTimestamp ActiveState` per host */
  async function unitStates(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const h of hosts) {
      const x = await SshExecutor.connect({ name: h.name, address: h.address!, port: 22, user: 'root' }, {
        privateKey: await readFile(join(dir, 'id_ed25519'), 'utf8'), knownHostsPath: join(dir, 'known_hosts'),
      });
      try {
        const r = await x.exec(`systemctl show -p Id,InvocationID,ActiveEnterTimestamp,ActiveState ${units.join(' ')}`);
        out[h.name] = {};
        for (const block of r.stdout.trim().split('\n\n')) {
          const kv = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
          out[h.name]![kv['Id']!] = `${kv['InvocationID']} ${kv['ActiveEnterTimestamp']} ${kv['ActiveState']}`;
        }
      } finally {
        await x.close();
      }
    }
    return out;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-apply-nspawn-'));
    spec = join(dir, 'cluster.yaml');
    process.env['KUBEWRIGHT_LAB_STATE_DIR'] = join(dir, 'lab-state');
    process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
    const subnet = await freeSubnet(215, 100, 100);
    const gateway = subnet.replace('.0/24', '.1');
    const base = (dns: string, pins: Record<string, string>): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: kwa${tag} }
kubernetes: { version: "1.36", apiServer: "https://${gateway}:6443", clusterDNS: ${dns} }
provider:
  lab: { hosts: 3, subnet: ${subnet}, bridge: ${bridge} }
etcd: { discovery: { endpoints: ["https://${gateway}:2379"] } }
pki: { dir: ./pki }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
artifacts:
  mirror: ./mirror
  checksums:
${Object.entries(pins).map(([u, s]) => `    "${u}": ${s}`).join('\n') || '    {}'}
`;
    await writeFile(spec, base('10.32.0.10', {}));
    const cluster = parseCluster(base('10.32.0.10', {}), spec);
    provider = new LabProvider(cluster);
    hosts = await provider.boot();
    const rendered = renderCluster({ cluster, hosts });
    const mirror = await buildArtifactMirror(join(dir, 'mirror'), withResolvedVersion(rendered.hosts[0]!.binaries, '1.36.2'), { stable: { minor: '1.36', version: 'v1.36.2' } });
    specText = (dns) => base(dns, mirror.pins);
    await writeFile(spec, specText('10.32.0.10'));
  });

  after(async () => {
    await provider?.remove().catch(() => undefined);
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    for (const [k, v] of [['KUBEWRIGHT_LAB_STATE_DIR', savedEnv.state], ['KUBEWRIGHT_CACHE_DIR', savedEnv.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('first apply writes everything and every unit runs under systemd', async () => {
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const states = await unitStates();
    for (const h of hosts) for (const u of units) assert.match(states[h.name]![u]!, / active$/, `${h.name} ${u}`);
  });

  test('a second apply changes nothing and restarts nothing, with one gather round trip per host', async () => {
    const before = await unitStates();
    const cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    const prepared = await prepareRun(cluster, { mode: 'apply', acceptNewHostKeys: false, hosts: await providerFor(cluster).recorded() });
    const counters: CountingExecutor[] = [];
    const outcomes = await runHosts(prepared.targets, {
      mode: 'apply',
      parallel: 10,
      binaries: prepared.store,
      connect: async (h) => {
        const c = new CountingExecutor(await prepared.connect(h));
        counters.push(c);
        return c;
      },
    });
    for (const o of outcomes) assert.equal(o.status, 'unchanged', `${o.host}: ${String(o.error)} ${o.plan?.actions.map((a) => a.summary).join('; ')}`);
    for (const c of counters) assert.deepEqual(c.commands.length, 1, `${c.host}: ${c.commands.join(' | ')}`);
    assert.deepEqual(await unitStates(), before);
  });

  test('changing clusterDNS rewrites the kubelet config and restarts only kubelet', async () => {
    const before = await unitStates();
    await writeFile(spec, specText('10.32.0.53'));
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--show-plan');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const after = await unitStates();
    for (const h of hosts) {
      for (const u of units) {
        if (u === 'kubelet.service') assert.notEqual(after[h.name]![u], before[h.name]![u], `${h.name}: kubelet restarted`);
        else assert.equal(after[h.name]![u], before[h.name]![u], `${h.name}: ${u} untouched`);
      }
    }
    assert.match(r.stdout, /~ write \/var\/lib\/kubelet\/config\.yaml \(content changed\)/);
  });
});

// Keeps the scale harness (test/support/ssh-harness.ts, a TEST DOUBLE) honest: the same rendered
// host on one lab machine (systemd-nspawn, real systemd, real OpenSSH and coreutils) and on one
// harness host gives the same plan: fresh, after the first apply, and after a changed file.
// Needs root (lab machines).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { providerFor } from '../../src/providers/provider-for.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { prepareRun, type PreparedRun } from '../../src/run/prepare-run.ts';
import { runHosts, type HostOutcome, type HostTarget } from '../../src/run/run-hosts.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { isolateTestLab } from '../support/lab-shell.ts';
import { labSpecYaml, serveLabBinaries } from '../support/lab-spec.ts';
import { SshHarness } from '../support/ssh-harness.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;

describe('the ssh harness and a lab machine plan alike', { skip }, () => {
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwh${tag}`;
  let dir = '';
  let provider: LabProvider | undefined;
  let teardown: ReturnType<typeof isolateTestLab> | undefined;
  let harness: SshHarness | undefined;
  let prepared: PreparedRun;
  let lab: HostTarget;
  let fake: HostTarget;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-harness-lab-'));
    teardown = isolateTestLab(dir);
    const spec = join(dir, 'cluster.yaml');
    const subnet = await freeSubnet(217, 100, 100);
    const text = (pins: Record<string, string>): string => labSpecYaml({ name: `kwh${tag}`, hosts: 1, subnet, bridge, pkiDir: './pki', pins });
    await writeFile(spec, text({}));
    const bare = parseCluster(text({}), spec);
    provider = new LabProvider(bare);
    const [harnessUp, hosts] = await Promise.all([SshHarness.start({ count: 1 }), provider.boot()]);
    harness = harnessUp;
    const pins = await serveLabBinaries(dir, bare, hosts);
    await writeFile(spec, text(pins));
    const cluster = parseCluster(text(pins), spec);
    prepared = await prepareRun(cluster, { mode: 'apply', acceptNewHostKeys: false, hosts: await providerFor(cluster).recorded() });
    lab = prepared.targets[0]!;
    const h = harness.hosts[0]!;
    await writeFile(join(dir, 'harness_known_hosts'), harness.knownHosts());
    // the lab machine's rendered state, on the harness host
    fake = { ...lab, host: { ...lab.host, name: h.name, address: '127.0.0.1', port: h.port } };
  });

  after(async () => {
    await harness?.stop();
    await teardown?.(provider, bridge);
  });

  const connectFake = (): ReturnType<typeof SshExecutor.connect> =>
    SshExecutor.connect({ name: fake.host.name, address: '127.0.0.1', port: fake.host.port, user: 'root' }, { privateKey: harness!.clientKey.private, knownHostsPath: join(dir, 'harness_known_hosts') });

  async function both(mode: 'plan' | 'apply', desired?: (d: RenderedHost) => RenderedHost): Promise<[HostOutcome, HostOutcome]> {
    const d = (t: HostTarget): HostTarget => (desired ? { ...t, desired: desired(t.desired) } : t);
    const opts = { mode, parallel: 1, binaries: prepared.store, waitActiveTimeoutSec: 30 } as const;
    const [[a], [b]] = await Promise.all([runHosts([d(lab)], { ...opts, connect: prepared.connect }), runHosts([d(fake)], { ...opts, connect: connectFake })]);
    assert.equal(a!.error, undefined, `lab: ${String(a!.error)}`);
    assert.equal(b!.error, undefined, `harness: ${String(b!.error)}`);
    assert.deepEqual(harness!.unrecognised, [], 'every command the harness was sent is one it knows');
    return [a!, b!];
  }

  const actions = (o: HostOutcome): string[] => (o.plan?.actions ?? []).map((a) => `${a.phase} ${a.kind}: ${a.summary} [${a.reasons.join(', ')}]`);
  // the free space differs (the harness reports 40 GB): the same finding all the same
  const findings = (o: HostOutcome): string[] => (o.plan?.findings ?? []).map((f) => `${f.check} ${f.severity}: ${f.message.replace(/^\d+ MiB free/, 'N MiB free')}`);

  test('a fresh host: the same actions and preflight findings', async () => {
    const [a, b] = await both('plan');
    assert.ok(actions(a).length > 30, actions(a).join('\n'));
    assert.deepEqual(actions(b), actions(a));
    assert.deepEqual(findings(b), findings(a));
  });

  test('the first apply does the same; afterwards both plan nothing, and a changed file plans the same write, diff and restart', async () => {
    const [a, b] = await both('apply');
    assert.deepEqual([b.status, b.applied], [a.status, a.applied]);
    assert.deepEqual(actions(b), actions(a));
    const [p, q] = await both('plan');
    assert.deepEqual(actions(p), [], 'the lab machine is converged');
    assert.deepEqual(actions(q), actions(p));
    assert.deepEqual(findings(q), findings(p));
    const edit = (d: RenderedHost): RenderedHost => ({ ...d, files: d.files.map((f) => (f.path === '/var/lib/kubelet/config.yaml' ? { ...f, contents: `${f.contents}# changed\n` } : f)) });
    const [c, e] = await both('plan', edit);
    assert.ok(actions(c).some((x) => x.includes('restart kubelet.service')), actions(c).join('\n'));
    assert.deepEqual(actions(e), actions(c));
    assert.deepEqual([...e.oldContents], [...c.oldContents], 'the old contents read back for the diff');
  });
});

// The apply engine against three real sshd hosts with fake roots. systemctl there is a TEST
// DOUBLE (test/support/sshd-hosts.ts); real systemd is covered by apply-nspawn.test.ts.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChecksumMismatchError } from '../../src/artifacts/artifact-errors.ts';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { UnitNotActiveError } from '../../src/phases/start-units.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { planJson, planText } from '../../src/run/plan-report.ts';
import { runHosts, type HostOutcome, type HostTarget } from '../../src/run/run-hosts.ts';
import type { Host } from '../../src/spec/host.ts';
import { buildArtifactMirror, standInScript, type ArtifactMirror } from '../support/artifact-mirror.ts';
import { freePort } from '../support/free-port.ts';
import { filesAdded } from '../support/fake-root.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';
import { connectHost } from '../../src/run/connect.ts';
import { SshConnectionError } from '../../src/exec/ssh-errors.ts';
import { startCuttingProxy } from './cutting-proxy.ts';
import { CountingExecutor, fixtureBinaries, fixtureHost, type FixtureOptions } from './fixture-host.ts';

let lab: SshdHosts;
let mirror: ArtifactMirror;
let store: ArtifactStore;
const counters = new Map<string, CountingExecutor>();

before(async () => {
  lab = await startSshdHosts(3, 'ap');
  mirror = await buildArtifactMirror(join(lab.dir, 'mirror'), fixtureBinaries());
  // the newer kubelet must differ in bytes from the older one
  await buildArtifactMirror(join(lab.dir, 'mirror'), fixtureBinaries('v1.36.3').filter((b) => b.name === 'kubelet'), { tag: 'v1.36.3' });
  store = new ArtifactStore({ mirror: mirror.dir, pins: mirror.pins, cacheDir: join(lab.dir, 'cache') });
});
after(async () => {
  await lab?.stop();
});

function hostOf(i: number): Host {
  const h = lab.hosts[i]!;
  return { name: h.name, address: h.address, port: h.port, user: 'root' };
}

async function apply(opts: FixtureOptions = {}, mode: 'plan' | 'apply' = 'apply', which = [0, 1, 2], s = store): Promise<HostOutcome[]> {
  const targets: HostTarget[] = which.map((i) => ({ host: hostOf(i), desired: fixtureHost(lab.hosts[i]!.name, opts) }));
  return runHosts(targets, {
    mode,
    parallel: 10,
    binaries: s,
    waitActiveTimeoutSec: 5,
    connect: async (h) => {
      const x = new CountingExecutor(
        await SshExecutor.connect({ name: h.name, address: h.address!, port: h.port, user: h.user }, { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath }),
      );
      counters.set(h.name, x);
      return x;
    },
  });
}

async function invocationIds(): Promise<string[]> {
  const ids: string[] = [];
  for (const h of lab.hosts) {
    for (const u of ['flanneld.service', 'kubelet.service', 'kube-proxy.service']) ids.push(await readFile(join(h.systemdDir, `${u}.inv`), 'utf8').catch(() => ''));
  }
  return ids;
}

test('plan on fresh hosts lists every file, binary and unit and changes nothing', async () => {
  const outcomes = await apply({}, 'plan');
  for (const o of outcomes) {
    assert.equal(o.status, 'planned', String(o.error));
    const kinds = o.plan!.actions.map((a) => a.kind);
    assert.equal(kinds.filter((k) => k === 'write-file').length, 6);
    assert.equal(kinds.filter((k) => k === 'install-binary').length, 3);
    assert.deepEqual(o.plan!.actions.filter((a) => a.kind === 'start').map((a) => a.unit), ['flanneld.service', 'kubelet.service', 'kube-proxy.service']);
    assert.equal(counters.get(o.host)!.commands.length, 1, 'plan of a fresh host is one gather command');
  }
  for (const h of lab.hosts) {
    assert.deepEqual(await filesAdded(h.root), []);
    assert.deepEqual((await lab.systemctlCalls(h)).filter((c) => !c.startsWith('show') && c !== '--version'), []);
  }
});

test('first apply writes every file and binary, reloads systemd once and starts the units in order', async () => {
  const outcomes = await apply();
  for (const o of outcomes) assert.equal(o.status, 'changed', String(o.error));
  for (const h of lab.hosts) {
    assert.equal(await readFile(join(h.root, 'etc/flannel/options.env'), 'utf8'), `FLANNELD_IFACE=eth1\n# ${h.name}\n`);
    assert.equal((await stat(join(h.root, 'var/lib/kubelet/kubelet-key.pem'))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(h.root, 'usr/local/bin/kubelet'), 'utf8'), standInScript('kubelet'));
    assert.equal(await readFile(join(h.root, 'usr/local/bin/flanneld'), 'utf8'), standInScript('flanneld'));
    assert.equal((await stat(join(h.root, 'usr/local/bin/flanneld'))).mode & 0o777, 0o755);
    const calls = (await lab.systemctlCalls(h)).filter((c) => !c.startsWith('show') && c !== '--version' && !c.startsWith('is-active'));
    assert.deepEqual(calls, [
      'daemon-reload',
      'enable flanneld.service', 'restart flanneld.service',
      'enable kubelet.service', 'restart kubelet.service',
      'enable kube-proxy.service', 'restart kube-proxy.service',
    ]);
  }
});

test('no-op apply changes nothing and restarts nothing, in one gather round trip per host', async () => {
  const before = await invocationIds();
  const callsBefore = await Promise.all(lab.hosts.map((h) => lab.systemctlCalls(h)));
  const outcomes = await apply();
  for (const o of outcomes) {
    assert.equal(o.status, 'unchanged', `${o.host}: ${o.plan?.actions.map((a) => a.summary).join('; ')}`);
    assert.equal(counters.get(o.host)!.commands.length, 1);
  }
  assert.deepEqual(await invocationIds(), before);
  for (const [i, h] of lab.hosts.entries()) {
    const added = (await lab.systemctlCalls(h)).slice(callsBefore[i]!.length);
    assert.deepEqual(added.filter((c) => !c.startsWith('show') && c !== '--version'), []);
  }
});

test('changing one field rewrites only its file and restarts only the unit that reads it', async () => {
  const before = await invocationIds();
  const outcomes = await apply({ clusterDNS: '10.32.0.53' });
  for (const o of outcomes) {
    assert.equal(o.status, 'changed', String(o.error));
    assert.deepEqual(o.plan!.actions.map((a) => a.summary), [
      'write /var/lib/kubelet/config.yaml (content changed)',
      'restart kubelet.service (/var/lib/kubelet/config.yaml content changed)',
      'record /var/lib/kubewright/manifest.json (after the changes above)',
    ]);
  }
  const after = await invocationIds();
  // per host: flanneld, kubelet, kube-proxy
  for (let i = 0; i < after.length; i++) {
    if (i % 3 === 1) assert.notEqual(after[i], before[i], 'kubelet restarted');
    else assert.equal(after[i], before[i], 'others untouched');
  }
});

test('a new binary version replaces only that binary and restarts its unit', async () => {
  const k = fixtureBinaries('v1.36.3').find((b) => b.name === 'kubelet')!;
  const binaries = [...fixtureBinaries().filter((b) => b.name !== 'kubelet'), k];
  const outcomes = await apply({ clusterDNS: '10.32.0.53', binaries }, 'apply', [0]);
  assert.equal(outcomes[0]!.status, 'changed', String(outcomes[0]!.error));
  assert.deepEqual(outcomes[0]!.plan!.actions.map((a) => `${a.kind} ${a.unit ?? a.change?.path ?? a.reasons.join(' ')}`), [
    'install-binary /usr/local/bin/kubelet',
    'restart kubelet.service',
    'record-manifest /var/lib/kubewright/manifest.json',
  ]);
});

test('a checksum mismatch fails that host with the old binary in place while the others complete', async () => {
  const bad = fixtureBinaries('v1.36.9');
  // tagged: new bytes the hosts lack (a binary a host already holds is never downloaded, corrupt or not)
  const badMirror = await buildArtifactMirror(join(lab.dir, 'mirror-bad'), bad, { corrupt: [bad[2]!.url], tag: 'v1.36.9' });
  const s = new ArtifactStore({ mirror: badMirror.dir, pins: badMirror.pins, cacheDir: join(lab.dir, 'cache-bad') });
  const h2 = lab.hosts[1]!;
  const oldProxy = await readFile(join(h2.root, 'usr/local/bin/kube-proxy'));
  const targets: HostTarget[] = [0, 1, 2].map((i) => ({
    host: hostOf(i),
    desired: fixtureHost(lab.hosts[i]!.name, { clusterDNS: '10.32.0.54', binaries: i === 1 ? bad : fixtureBinaries() }),
  }));
  const outcomes = await runHosts(targets, {
    mode: 'apply',
    parallel: 10,
    binaries: { knownInstalledDigest: (b) => (b.url.includes('v1.36.9') ? s : store).knownInstalledDigest(b), binary: (b) => (b.url.includes('v1.36.9') ? s : store).binary(b) },
    waitActiveTimeoutSec: 5,
    connect: async (h) => {
      return SshExecutor.connect({ name: h.name, address: h.address!, port: h.port, user: h.user }, { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath });
    },
  });
  assert.deepEqual(outcomes.map((o) => o.status), ['changed', 'failed', 'changed']);
  assert.ok(outcomes[1]!.error instanceof ChecksumMismatchError, String(outcomes[1]!.error));
  assert.ok(oldProxy.equals(await readFile(join(h2.root, 'usr/local/bin/kube-proxy'))), 'old binary stays');
  assert.match(await readFile(join(h2.root, 'var/lib/kubelet/config.yaml'), 'utf8'), /10\.32\.0\.53/, 'the failed host was not touched at all');
  assert.match(await readFile(join(lab.hosts[0]!.root, 'var/lib/kubelet/config.yaml'), 'utf8'), /10\.32\.0\.54/);
});

test('plan shows a changed private key only as redacted digests, never its contents', async () => {
  const outcomes = await apply({ clusterDNS: '10.32.0.54', keyVersion: 2 }, 'plan', [2]);
  const text = planText(outcomes).join('\n');
  const json = JSON.stringify(planJson(outcomes));
  assert.match(text, /^ap3: {7}\/var\/lib\/kubelet\/kubelet-key\.pem: <redacted sha256:[0-9a-f]{12}…> → <redacted sha256:[0-9a-f]{12}…>$/m);
  assert.match(text, /^ap3: {3}⟳ restart kubelet\.service \(\/var\/lib\/kubelet\/kubelet-key\.pem content changed\)$/m);
  for (const out of [text, json]) {
    assert.doesNotMatch(out, /secret-of-ap3/);
    assert.doesNotMatch(out, /BEGIN PRIVATE KEY/);
  }
  assert.ok(!counters.get('ap3')!.commands.includes('read /var/lib/kubelet/kubelet-key.pem'), 'the old key is not even read');
});

test('a unit that does not become active fails its host with its journal lines and starts nothing after it', async () => {
  const h = lab.hosts[2]!;
  const desired = fixtureHost(h.name, { clusterDNS: '10.32.0.55' });
  desired.files.push({ path: '/etc/systemd/system/broken.service', mode: 0o644, contents: '[Service]\nExecStart=/bin/false\n' });
  desired.units.splice(1, 0, { name: 'broken.service', dependsOn: ['/etc/systemd/system/broken.service'] });
  const before = await invocationIds();
  const [o] = await runHosts([{ host: hostOf(2), desired }], {
    mode: 'apply',
    parallel: 1,
    binaries: store,
    waitActiveTimeoutSec: 2,
    connect: (host) => SshExecutor.connect({ name: host.name, address: host.address!, port: host.port, user: 'root' }, { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath }),
  });
  assert.equal(o!.status, 'failed');
  assert.ok(o!.error instanceof UnitNotActiveError, String(o!.error));
  assert.match(o!.error.describe(), /^ap3: broken\.service is failed after start:\n.*journalctl test double for: -u broken\.service -n 20 --no-pager.*\nbroken: exited with status 1/s);
  const calls = (await lab.systemctlCalls(h)).slice(-8).join('\n');
  assert.doesNotMatch(calls, /restart kubelet/, 'kubelet (after the broken unit) was not restarted');
  assert.deepEqual((await invocationIds()).slice(6, 9), before.slice(6, 9));
});

test('connect keeps retrying a host whose sshd is not up yet, within the wait, and fails at once without one', async () => {
  const h = lab.hosts[0]!;
  const port = await freePort();
  const host = { name: 'late', address: '127.0.0.1', port, user: 'root' };
  const known = join(lab.dir, 'known_hosts.late');
  const opts = { privateKey: lab.privateKey, knownHostsPath: known, acceptNewHostKeys: true };
  const e = await connectHost(host, opts).catch((err: unknown) => err);
  assert.ok(e instanceof SshConnectionError && /ECONNREFUSED/.test(e.message), String(e));
  // sshd "comes up" 1.5 s later: a forwarder on that port
  let proxy: Awaited<ReturnType<typeof startCuttingProxy>> | undefined;
  const late = setTimeout(() => void startCuttingProxy(h.port, port).then((p) => (proxy = p)), 1500);
  try {
    const x = await connectHost(host, { ...opts, waitForSshMs: 15_000 });
    assert.equal((await x.exec('echo up')).stdout, 'up\n');
    await x.close();
  } finally {
    clearTimeout(late);
    await proxy?.close();
  }
});

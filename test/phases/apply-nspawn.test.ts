// Apply with real systemd: 3 systemd-nspawn machines from the lab provider (own bridge and
// subnet), the modern profile's real rendered files, stand-in binaries (TEST DOUBLES from
// test/support/artifact-mirror.ts that stay running) served from a local mirror with real
// checksums. Units really get enabled, started and restarted. Needs root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prepareRun } from '../../src/run/prepare-run.ts';
import { planText } from '../../src/run/plan-report.ts';
import { runHosts, type HostOutcome, type HostTarget } from '../../src/run/run-hosts.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import type { Host } from '../../src/spec/host.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { nodeName } from '../../src/spec/node-name.ts';
import { runCli } from '../helpers/run-cli.ts';
import { providerFor } from '../../src/providers/provider-for.ts';
import { CountingExecutor } from './fixture-host.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { isolateTestLab, onLabHost } from '../support/lab-shell.ts';
import { labSpecYaml, serveLabBinaries } from '../support/lab-spec.ts';

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
  let teardown: ReturnType<typeof isolateTestLab> | undefined;

  /** unit → `InvocationID ActiveEnterTimestamp ActiveState` per host */
  async function unitStates(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const h of hosts) {
      const stdout = await onHost(h, `systemctl show -p Id,InvocationID,ActiveEnterTimestamp,ActiveState ${units.join(' ')}`);
      out[h.name] = {};
      for (const block of stdout.trim().split('\n\n')) {
        const kv = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
        out[h.name]![kv['Id']!] = `${kv['InvocationID']} ${kv['ActiveEnterTimestamp']} ${kv['ActiveState']}`;
      }
    }
    return out;
  }

  /** runs a shell command on a machine (as root) and returns its stdout */
  const onHost = (h: Host, cmd: string): Promise<string> => onLabHost(dir, h, cmd);


  /** apply (or plan) `desired(host)` on every machine through the engine, as the CLI does */
  async function applyDesired(desired: (t: HostTarget) => RenderedHost, mode: 'plan' | 'apply' = 'apply'): Promise<HostOutcome[]> {
    const cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    const prepared = await prepareRun(cluster, { mode, acceptNewHostKeys: false, hosts: await providerFor(cluster).recorded() });
    return runHosts(prepared.targets.map((t) => ({ ...t, desired: desired(t) })), { mode, parallel: 10, binaries: prepared.store, connect: prepared.connect, waitActiveTimeoutSec: 30 });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-apply-nspawn-'));
    spec = join(dir, 'cluster.yaml');
    teardown = isolateTestLab(dir);
    const subnet = await freeSubnet(215, 100, 100);
    const base = (dns: string, pins: Record<string, string>): string => labSpecYaml({ name: `kwa${tag}`, hosts: 3, subnet, bridge, clusterDNS: dns, pkiDir: './pki', pins });
    await writeFile(spec, base('10.32.0.10', {}));
    const cluster = parseCluster(base('10.32.0.10', {}), spec);
    provider = new LabProvider(cluster);
    hosts = await provider.boot();
    const pins = await serveLabBinaries(dir, cluster, hosts);
    specText = (dns) => base(dns, pins);
    await writeFile(spec, specText('10.32.0.10'));
  });

  after(async () => {
    await teardown?.(provider, bridge);
  });

  test('first apply writes everything and every unit runs under systemd', async () => {
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const states = await unitStates();
    for (const h of hosts) for (const u of units) assert.match(states[h.name]![u]!, / active$/, `${h.name} ${u}`);
  });

  test('a second apply changes nothing and restarts nothing, with one gather round trip per host', async () => {
    // the hashers on each machine, wrapped to log every call (the wrappers come first in root's PATH)
    for (const h of hosts) {
      await onHost(h, [
        'rm -f /run/kw-hasher.log',
        ...['openssl', 'sha256sum'].map((t) => `printf '#!/bin/sh\\necho "${t} $*" >>/run/kw-hasher.log\\nexec /usr/bin/${t} "$@"\\n' >/usr/local/sbin/${t} && chmod 0755 /usr/local/sbin/${t}`),
      ].join(' && '));
    }
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
    for (const h of hosts) assert.equal(await onHost(h, 'cat /run/kw-hasher.log 2>/dev/null; true'), '', `${h.name}: no hasher ran`);
  });

  test('a file edited behind kubewright\'s back with its size and mtime kept is caught by its ctime, hashing only that file', async () => {
    const h = hosts[0]!;
    const p = '/etc/containerd/config.toml';
    const before = await onHost(h, `stat -c '%s %.9Y %.9Z' ${p}`);
    // same length, same mtime; only ctime tells
    await onHost(h, `m=$(stat -c %.9Y ${p}) && sed -i 's/runc/RUNC/' ${p} && touch -m -d "@$m" ${p}`);
    const after = await onHost(h, `stat -c '%s %.9Y %.9Z' ${p}`);
    assert.deepEqual(after.split(' ').slice(0, 2), before.split(' ').slice(0, 2));
    assert.notEqual(after, before);
    await onHost(h, 'rm -f /run/kw-hasher.log');
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--show-plan');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${h.name}:   ~ write /etc/containerd/config\\.toml \\(content changed\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${h.name}:   ⟳ restart containerd\\.service`, 'm'));
    for (const other of hosts.slice(1)) assert.match(r.stdout, new RegExp(`^${other.name}: no changes$`, 'm'));
    assert.doesNotMatch(await onHost(h, `cat ${p}`), /RUNC/);
    const log = await onHost(h, 'cat /run/kw-hasher.log');
    assert.deepEqual(log.trim().split('\n'), [`openssl dgst -sha256 -r ${p}`], 'one hasher call, for that one file, and openssl is preferred');
  });

  test('--checksum hashes every managed file and binary, in one hasher call', async () => {
    await Promise.all(hosts.map((h) => onHost(h, 'rm -f /run/kw-hasher.log')));
    const r = await runCli('plan', '-f', spec, '--checksum', '-o', 'json');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const doc = JSON.parse(r.stdout) as { hosts: { status: string }[] };
    assert.deepEqual(doc.hosts.map((x) => x.status), hosts.map(() => 'unchanged'));
    const cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    const prepared = await prepareRun(cluster, { mode: 'plan', acceptNewHostKeys: false, hosts: await providerFor(cluster).recorded() });
    const managed = new Set([...prepared.targets[0]!.desired.files.map((f) => f.path), ...prepared.targets[0]!.desired.binaries.map((b) => b.path)]);
    for (const h of hosts) {
      const calls = (await onHost(h, 'cat /run/kw-hasher.log')).trim().split('\n');
      assert.equal(calls.length, 1, calls.join('\n'));
      assert.deepEqual(new Set(calls[0]!.split(' ').slice(4)), managed);
    }
  });

  test('a unit, its drop-in and a file the spec no longer renders are stopped, disabled and removed, and the rest is untouched', async () => {
    const extraUnit = '/etc/systemd/system/kw-extra.service';
    const dropIn = '/etc/systemd/system/kubelet.service.d/20-extra.conf';
    const extraFile = '/etc/kw-extra/extra.env';
    const withExtra = (t: HostTarget): RenderedHost => ({
      ...t.desired,
      files: [
        ...t.desired.files,
        { path: extraFile, mode: 0o644, contents: 'EXTRA=1\n' },
        { path: extraUnit, mode: 0o644, contents: `[Service]\nEnvironmentFile=${extraFile}\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n` },
        { path: dropIn, mode: 0o644, contents: '[Service]\nEnvironment=KW_EXTRA=1\n' },
      ],
      units: [...t.desired.units, { name: 'kw-extra.service', dependsOn: [extraUnit, extraFile] }],
    });
    const added = await applyDesired(withExtra);
    for (const o of added) assert.equal(o.status, 'changed', String(o.error));
    for (const h of hosts) {
      assert.equal(await onHost(h, 'systemctl is-active kw-extra.service; systemctl is-enabled kw-extra.service'), 'active\nenabled\n');
      assert.match(await onHost(h, 'systemctl show -p DropInPaths kubelet.service'), /20-extra\.conf/);
    }
    const before = await unitStates();

    const planned = await applyDesired((t) => t.desired, 'plan');
    const text = planText(planned).join('\n');
    for (const h of hosts) {
      assert.match(text, new RegExp(`^${h.name}:   ■ stop and disable kw-extra\\.service \\(no longer rendered; active, enabled\\)$`, 'm'));
      for (const p of [extraFile, extraUnit, dropIn]) assert.match(text, new RegExp(`^${h.name}:   - remove ${p.replaceAll('.', '\\.')} \\(file, no longer rendered\\)$`, 'm'));
      assert.match(text, new RegExp(`^${h.name}:   ⟳ restart kubelet\\.service \\(${dropIn.replaceAll('.', '\\.')} removed\\)$`, 'm'));
    }
    const pruned = await applyDesired((t) => t.desired);
    for (const o of pruned) {
      assert.equal(o.status, 'changed', String(o.error));
      const kinds = o.plan!.actions.map((a) => a.kind);
      // stopped before its files go, systemd reloaded before kubelet restarts without the drop-in
      assert.ok(kinds.indexOf('stop-disable') < kinds.indexOf('remove') && kinds.indexOf('daemon-reload') < kinds.indexOf('restart'), kinds.join(' '));
    }
    const after = await unitStates();
    for (const h of hosts) {
      assert.equal(await onHost(h, `systemctl is-active kw-extra.service; systemctl show -p LoadState --value kw-extra.service; ls ${extraUnit} ${dropIn} ${extraFile} /etc/kw-extra 2>&1 | grep -c 'No such file'`), 'inactive\nnot-found\n4\n');
      assert.doesNotMatch(await onHost(h, 'systemctl show -p DropInPaths kubelet.service'), /20-extra/);
      assert.ok(!(await onHost(h, 'cat /var/lib/kubewright/manifest.json')).includes('kw-extra'), 'the manifest forgot them');
      for (const u of units) {
        if (u === 'kubelet.service') assert.notEqual(after[h.name]![u], before[h.name]![u], `${h.name}: kubelet restarted without the drop-in`);
        else assert.equal(after[h.name]![u], before[h.name]![u], `${h.name}: ${u} untouched`);
      }
    }
    for (const o of await applyDesired((t) => t.desired)) assert.equal(o.status, 'unchanged', o.plan?.actions.map((a) => a.summary).join('; '));
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

  test('renewed certificates restart only the units that read them (InvocationIDs before and after)', async () => {
    // a CA, and a first apply that places every certificate
    assert.equal((await runCli('pki', 'init', '-f', spec)).code, 0);
    const placed = await runCli('apply', '-f', spec, '--wait-timeout', '30s');
    assert.equal(placed.code, 0, `${placed.stdout}\n${placed.stderr}`);
    const before = await unitStates();
    const cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    const first = nodeName(cluster, hosts[0]!);
    // renewals as `pki issue` makes them: kube-proxy's certificate (every host) and the first node's
    // kubelet certificate. (flannel's etcd client certificate restarts flanneld, and systemd then
    // restarts kubelet too, which Requires= flanneld: not a choice of apply's, so not tested here.)
    for (const n of ['kube-proxy', `nodes/${first}/kubelet`]) await rm(join(dir, 'pki', `${n}.pem`));
    const issued = await runCli('pki', 'issue', '-f', spec);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(issued.stdout, /2 issue, 0 reissue/);
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--show-plan');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const after = await unitStates();
    const restarted = (h: Host): string[] => units.filter((u) => after[h.name]![u] !== before[h.name]![u]);
    for (const u of units) for (const h of hosts) assert.match(after[h.name]![u]!, / active$/, `${h.name} ${u}`);
    assert.deepEqual(restarted(hosts[0]!), ['kubelet.service', 'kube-proxy.service'], `${hosts[0]!.name}\n${r.stdout}`);
    for (const h of hosts.slice(1)) assert.deepEqual(restarted(h), ['kube-proxy.service'], `${h.name}\n${r.stdout}`);
    assert.match(r.stdout, new RegExp(`^${hosts[0]!.name}:   ⟳ restart kubelet\\.service \\(/etc/kubernetes/pki/kubelet\\.pem content changed; /etc/kubernetes/pki/kubelet-key\\.pem content changed\\)$`, 'm'));
  });
});

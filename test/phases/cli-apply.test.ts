// `kubewright plan` and `kubewright apply` end to end on the modern profile's real renderers,
// against three loopback sshd hosts with fake roots (systemctl there is a TEST DOUBLE, see
// test/support/sshd-hosts.ts) and a local mirror of stand-in binaries.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { main } from '../../src/cli/main.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { filesAdded } from '../support/fake-root.ts';
import { staticSpecYaml } from '../support/lab-spec.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let specFile: string;
let specText: (clusterDNS: string) => string;

before(async () => {
  lab = await startSshdHosts(3, 'cl');
  const mirrorDir = join(lab.dir, 'mirror');
  const base = (clusterDNS: string, pins: Record<string, string>): string => staticSpecYaml({ name: 'cli', lab, mirror: mirrorDir, pins, clusterDNS });
  const cluster = parseCluster(base('10.32.0.10', {}), join(lab.dir, 'cluster.yaml'));
  const rendered = renderCluster({ cluster, hosts: plannedHosts(cluster), kubernetesVersion: '1.36.2' });
  const binaries = rendered.hosts.values().next().value!.binaries;
  const mirror = await buildArtifactMirror(mirrorDir, binaries, { stable: { minor: '1.36', version: 'v1.36.2' } });
  specText = (dns) => base(dns, mirror.pins);
  specFile = join(lab.dir, 'cluster.yaml');
  await writeFile(specFile, specText('10.32.0.10'));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache');
});
after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await lab?.stop();
});

test('plan lists files, binaries and unit starts per host and writes nothing', async () => {
  const r = await runCli('plan', '-f', specFile);
  assert.equal(r.code, 0, r.stderr);
  for (const h of lab.hosts) {
    assert.match(r.stdout, new RegExp(`^${h.name}:   \\+ create /etc/systemd/system/kubelet\\.service \\(created\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${h.name}:   ↓ install /usr/local/bin/kubelet from https://dl\\.k8s\\.io/release/v1\\.36\\.2/bin/linux/amd64/kubelet \\(missing\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${h.name}:   ▶ start kubelet\\.service \\(`, 'm'));
    assert.deepEqual(await filesAdded(h.root), []);
  }
  assert.equal((await runCli('plan', '-f', specFile, '--detailed-exitcode')).code, 2, '--detailed-exitcode: 2 when there are changes');
  assert.match(r.stdout, /^Plan: 3 host\(s\): 3 to change, 0 unchanged, 0 failed; 42 file\(s\), 36 binaries to install, 21 unit \(re\)start\(s\)$/m);
  const j = await runCli('plan', '-f', specFile, '--output', 'json');
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as { hosts: { host: string; status: string; actions: { kind: string; path?: string }[] }[]; summary: { changed: number } };
  assert.equal(doc.summary.changed, 3);
  assert.ok(doc.hosts[0]!.actions.some((a) => a.kind === 'write-file' && a.path === '/var/lib/kubelet/config.yaml'));
});

test('apply brings every host to the rendered state, and a second apply and plan find nothing to do', async () => {
  const r = await runCli('apply', '-f', specFile);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^HOST\s+STATUS\s+ACTIONS\s+TIME/m);
  for (const h of lab.hosts) {
    assert.match(r.stdout, new RegExp(`^${h.name}\\s+changed\\s+\\d+`, 'm'));
    assert.match(await readFile(join(h.root, 'etc/systemd/system/kubelet.service'), 'utf8'), /ExecStart=\/usr\/local\/bin\/kubelet/);
  }
  const again = await runCli('apply', '-f', specFile);
  assert.equal(again.code, 0, again.stderr);
  for (const h of lab.hosts) assert.match(again.stdout, new RegExp(`^${h.name}\\s+unchanged\\s+0`, 'm'));
  const plan = await runCli('plan', '-f', specFile);
  for (const h of lab.hosts) assert.match(plan.stdout, new RegExp(`^${h.name}: no changes$`, 'm'));
  assert.equal((await runCli('plan', '-f', specFile, '--detailed-exitcode')).code, 0, '--detailed-exitcode: 0 when nothing changes');
  // -v: every SSH command with its host and duration, on stderr
  const verbose = await runCli('plan', '-f', specFile, '-v');
  assert.equal(verbose.code, 0, verbose.stderr);
  for (const h of lab.hosts) {
    assert.match(verbose.stderr, new RegExp(`^· ${h.name}: ssh root@127\\.0\\.0\\.1:${h.port}: connect → ok \\(\\d+ ms\\)$`, 'm'));
    assert.match(verbose.stderr, new RegExp(`^· ${h.name}: ssh root@127\\.0\\.0\\.1:${h.port}: .+ → exit 0 \\(\\d+ ms\\)$`, 'm'));
  }
  assert.doesNotMatch(plan.stderr, /^· /m, 'nothing traced without -v');
  const json = await runCli('apply', '-f', specFile, '--output', 'json');
  assert.equal(json.code, 0, json.stderr);
  // streamed: one `result` event per host as it finishes, then the `summary` event
  const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host?: string; phase: string; status: string; result?: { status: string; applied: number }; summary?: { hosts: number; unchanged: number } });
  assert.deepEqual(records.slice(0, -1).map((e) => [e.host, e.phase, e.status, e.result?.status, e.result?.applied]).sort(), lab.hosts.map((h) => [h.name, 'result', 'ok', 'unchanged', 0]));
  assert.equal(records.at(-1)!.phase, 'summary');
  assert.deepEqual([records.at(-1)!.status, records.at(-1)!.summary?.hosts, records.at(-1)!.summary?.unchanged], ['ok', 3, 3]);
  const events = await runCli('apply', '-f', specFile, '--events', 'ndjson');
  assert.equal(events.code, 0, events.stderr);
  // stdout is nothing but events; the table goes to stderr
  const lines = events.stdout.split('\n').map((l) => JSON.parse(l) as { host: string; phase: string; status: string; ms: number });
  assert.match(events.stderr, /^HOST\s+STATUS\s+ACTIONS/m);
  for (const h of lab.hosts) {
    assert.deepEqual(lines.filter((e) => e.host === h.name).map((e) => e.phase), ['connect', 'gather facts', 'plan prune', 'plan prepare directories', 'plan binaries', 'plan files', 'plan daemon-reload', 'plan units', 'done', 'result']);
  }
  assert.ok(lines.every((e) => typeof e.ms === 'number'));
  assert.equal(lines.at(-1)!.phase, 'summary', 'the totals end the stream');
});

test('a changed spec field shows as a unified diff and restarts only the units that read it', async () => {
  await writeFile(specFile, specText('10.32.0.53'));
  const plan = await runCli('plan', '-f', specFile);
  assert.equal(plan.code, 0, plan.stderr);
  const h = lab.hosts[0]!.name;
  assert.match(plan.stdout, new RegExp(`^${h}:       --- a/var/lib/kubelet/config\\.yaml$`, 'm'));
  assert.match(plan.stdout, new RegExp(`^${h}:       -- 10\\.32\\.0\\.10$`, 'm'));
  assert.match(plan.stdout, new RegExp(`^${h}:       \\+- 10\\.32\\.0\\.53$`, 'm'));
  assert.ok(!plan.stdout.includes('\x1b['), 'no colour when stdout is not a terminal');
  // on a terminal the diff is coloured; NO_COLOR turns it off
  const onTerminal = async (): Promise<string> => {
    const out: string[] = [];
    assert.equal(await main(['node', 'kubewright', 'plan', '-f', specFile], { out: (l) => out.push(l), err: () => undefined, isTTY: true }), 0);
    return out.join('\n');
  };
  const coloured = await onTerminal();
  assert.ok(coloured.includes(`${h}:       \x1b[32m+- 10.32.0.53\x1b[0m`), 'an added line is green');
  assert.ok(coloured.includes(`${h}:       \x1b[31m-- 10.32.0.10\x1b[0m`), 'a removed line is red');
  process.env['NO_COLOR'] = '1';
  try {
    assert.ok(!(await onTerminal()).includes('\x1b['), 'NO_COLOR: no colour on a terminal either');
  } finally {
    delete process.env['NO_COLOR'];
  }
  const restarts = plan.stdout.split('\n').filter((l) => l.startsWith(`${h}:   ⟳ restart`));
  assert.deepEqual(restarts.map((l) => l.split(' ')[5]), ['kubelet.service']);
  const r = await runCli('apply', '-f', specFile);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await readFile(join(lab.hosts[0]!.root, 'var/lib/kubelet/config.yaml'), 'utf8'), /10\.32\.0\.53/);
});

test('a host whose key changed is refused with exit 1, nothing written there, the others completed', async () => {
  await writeFile(specFile, specText('10.32.0.54'));
  const [a, b] = [lab.hosts[0]!, lab.hosts[1]!];
  const known = await readFile(lab.knownHostsPath, 'utf8');
  const tampered = known.replace(a.knownHostsLine, b.knownHostsLine.replace(`]:${b.port} `, `]:${a.port} `));
  await writeFile(lab.knownHostsPath, tampered);
  try {
    const before = await readFile(join(a.root, 'var/lib/kubelet/config.yaml'), 'utf8');
    const r = await runCli('apply', '-f', specFile, '--accept-new-host-keys');
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^${a.name}\\s+failed\\s+-.*host key of \\[127\\.0\\.0\\.1\\]:${a.port} does not match`, 'm'));
    assert.match(r.stderr, /error: apply failed on 1 of 3 host\(s\): cl1/);
    assert.equal(await readFile(join(a.root, 'var/lib/kubelet/config.yaml'), 'utf8'), before);
    assert.match(await readFile(join(b.root, 'var/lib/kubelet/config.yaml'), 'utf8'), /10\.32\.0\.54/);
    assert.equal(await readFile(lab.knownHostsPath, 'utf8'), tampered, 'the changed key is not recorded');
  } finally {
    await writeFile(lab.knownHostsPath, known);
  }
});

test('with etcd discovery by tag the read-only token is planned as a redacted file, and apply requires it', async () => {
  const tagged = specText('10.32.0.54').replace('etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }', 'etcd: { discovery: { digitaloceanTag: k8s-etcd } }');
  const taggedFile = join(lab.dir, 'tagged.yaml');
  await writeFile(taggedFile, tagged);
  const tokenFile = join(lab.dir, 'ro-token');
  await writeFile(tokenFile, 'dop_v1_readonly_test_token\n');
  const plan = await runCli('plan', '-f', taggedFile, '--lookup-token-file', tokenFile);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /^cl1: {7}\/etc\/flannel\/do-token: <absent> → <redacted sha256:[0-9a-f]{12}…>$/m);
  assert.doesNotMatch(plan.stdout, /dop_v1_readonly_test_token/);
  const noToken = await runCli('plan', '-f', taggedFile);
  assert.match(noToken.stdout, /^note: etcd\.discovery\.digitaloceanTag \(k8s-etcd\): without --lookup-token-file/m);
  const apply = await runCli('apply', '-f', taggedFile);
  assert.equal(apply.code, 2);
  assert.match(apply.stderr, /--lookup-token-file FILE/);
});

test('plan --accept-new-host-keys records nothing and shows the key apply would pin (fingerprints as ssh-keygen prints them)', async () => {
  const empty = join(lab.dir, 'new_known_hosts');
  await writeFile(empty, '');
  const file = join(lab.dir, 'new-keys.yaml');
  await writeFile(file, (await readFile(specFile, 'utf8')).replace(`knownHostsPath: ${lab.knownHostsPath}`, `knownHostsPath: ${empty}`));
  // ssh-keygen, an independent judge, fingerprints the keys the hosts really present
  const { stdout: judged } = await promisify(execFile)('ssh-keygen', ['-lf', lab.knownHostsPath]);
  const fingerprintOf = (port: number): string => {
    const line = judged.split('\n').find((l) => l.includes(`[127.0.0.1]:${port} `));
    assert.ok(line, `ssh-keygen lists port ${port}`);
    return line.split(' ')[1]!;
  };
  const plan = await runCli('plan', '-f', file, '--accept-new-host-keys');
  assert.equal(plan.code, 0, plan.stderr);
  assert.equal(await readFile(empty, 'utf8'), '', 'plan appends nothing to known_hosts');
  for (const h of lab.hosts) {
    assert.match(plan.stdout, new RegExp(`^${h.name}: new host key ssh-ed25519 ${fingerprintOf(h.port).replace(/[+/]/g, '\\$&')}: trusted for this plan only; apply or up with --accept-new-host-keys pins it`, 'm'));
  }
  assert.equal((await runCli('plan', '-f', file, '--accept-new-host-keys', '--detailed-exitcode')).code, 2, 'a key to pin is a change');
  const json = JSON.parse((await runCli('plan', '-f', file, '--accept-new-host-keys', '-o', 'json')).stdout) as { newHostKeys: { host: string; fingerprint: string }[] };
  assert.deepEqual(json.newHostKeys.map((k) => k.host).sort(), lab.hosts.map((h) => h.name).sort());
  assert.equal(await readFile(empty, 'utf8'), '');
  const apply = await runCli('apply', '-f', file, '--accept-new-host-keys');
  assert.equal(apply.code, 0, apply.stderr);
  const pinned = await readFile(empty, 'utf8');
  for (const h of lab.hosts) assert.match(pinned, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${h.port} ssh-ed25519 `, 'm'), 'apply pins it');
});

test('plan offline (stable-<minor>.txt unreachable) still shows every file and unit change and marks the Kubernetes binaries; apply refuses', async () => {
  // a mirror URL where nothing listens: the connection is refused, as on an air-gapped laptop
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const file = join(lab.dir, 'offline.yaml');
  const text = specText('10.32.0.77');
  assert.match(text, /^ {2}mirror: \S+$/m);
  await writeFile(file, text.replace(/^ {2}mirror: \S+$/m, `  mirror: http://127.0.0.1:${closed}/`));
  const plan = await runCli('plan', '-f', file);
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /^note: kubernetes 1\.36: .*stable-1\.36\.txt could not be fetched .*"version unresolved \(offline\)"; apply needs it/m);
  const h = lab.hosts[0]!.name;
  assert.match(plan.stdout, new RegExp(`^${h}:       \\+- 10\\.32\\.0\\.77$`, 'm'), 'file diffs are shown');
  assert.match(plan.stdout, new RegExp(`^${h}:   (⟳ restart|▶ start) kubelet\\.service`, 'm'), 'unit (re)starts are shown');
  assert.match(plan.stdout, new RegExp(`^${h}:   ↓ install /usr/local/bin/kubelet from https://dl\\.k8s\\.io/release/v1\\.36\\.x/bin/linux/amd64/kubelet \\(version unresolved \\(offline\\)\\)$`, 'm'));
  const before = await readFile(join(lab.hosts[0]!.root, 'var/lib/kubelet/config.yaml'), 'utf8').catch(() => 'absent');
  const apply = await runCli('apply', '-f', file);
  assert.notEqual(apply.code, 0);
  assert.match(apply.stderr, /stable-1\.36\.txt/);
  assert.equal(await readFile(join(lab.hosts[0]!.root, 'var/lib/kubelet/config.yaml'), 'utf8').catch(() => 'absent'), before, 'apply changed nothing');
});

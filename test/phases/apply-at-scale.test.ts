// Output and failures at scale (issue 16; docs/scale.md "Output and failures at scale"), at small N
// with real hosts: 21 loopback sshd hosts with fake roots (systemctl there is a TEST DOUBLE, see
// test/support/sshd-hosts.ts), one port that refuses connections and one that accepts TCP but
// never answers SSH (a socket this test holds open), so 23 hosts: more than perHostLimit (20).
// One sshd host fails mid-apply: the systemctl double fails its kubelet start (a planted
// `kubelet.service.broken`), after its files and binaries are written.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { plannedHosts } from '../../src/providers/provider.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { perHostLimit } from '../../src/run/plan-report.ts';
import { runHosts } from '../../src/run/run-hosts.ts';
import { connectHost } from '../../src/run/connect.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { runCli } from '../helpers/run-cli.ts';
import { serveLabBinaries, staticSpecYaml } from '../support/lab-spec.ts';
import { freePort } from '../support/free-port.ts';
import { startSilentHost, type SilentHost } from '../support/silent-host.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let specFile: string;
let refusedPort: number;
let blackHole: SilentHost;
/** the host whose kubelet start fails */
const failing = 's5';
const names = Array.from({ length: 23 }, (_, i) => `s${i + 1}`);
const refused = 's22';
const silent = 's23';
const connectTimeout = '4s';

before(async () => {
  lab = await startSshdHosts(21, 's');
  refusedPort = await freePort();
  blackHole = await startSilentHost();
  const spec = (pins?: Record<string, string>): string => staticSpecYaml({ name: 'scale', lab, mirror: join(lab.dir, 'mirror'), pins, deadHosts: [{ name: refused, port: refusedPort }, { name: silent, port: blackHole.port }] });
  specFile = join(lab.dir, 'cluster.yaml');
  const cluster = parseCluster(spec(), specFile);
  await writeFile(specFile, spec(await serveLabBinaries(lab.dir, cluster, plannedHosts(cluster))));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache');
  await writeFile(join(lab.hosts.find((h) => h.name === failing)!.systemdDir, 'kubelet.service.broken'), '');
});

after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await blackHole?.stop();
  await lab?.stop();
});

interface ResultEvent { host?: string; phase: string; status: string; ms: number; result?: { status: string; applied: number; durationMs: number; error?: string; actions: { kind: string; summary: string }[] }; summary?: { hosts: number; changed: number; unchanged: number; failed: number } }

const events = (stdout: string): ResultEvent[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as ResultEvent);

test(`plan over more than ${perHostLimit} hosts shows hosts with the same actions once, each unreachable host on its own line; -v shows each host`, async () => {
  assert.ok(names.length > perHostLimit);
  const r = await runCli('plan', '-f', specFile, '--connect-timeout', connectTimeout);
  assert.equal(r.code, 1, r.stderr);
  // the 21 reachable hosts plan the same actions (their diffs differ: names, addresses)
  assert.match(r.stdout, /^s1 \(\+20\): \d+ change\(s\) \([^)]*\), the same on 21 hosts: s1, s2, s3, s4, s5, s6, s7, s8, s9, s10 and 11 more \(diffs shown are s1's; plan -v shows each host\)$/m);
  assert.match(r.stdout, /^s1 \(\+20\): {3}\+ create \/etc\/systemd\/system\/kubelet\.service \(created\)$/m);
  assert.doesNotMatch(r.stdout, /^s2: /m, 'no host of the group has lines of its own');
  assert.match(r.stdout, new RegExp(`^${refused}: FAILED: ssh connect to root@127\\.0\\.0\\.1:${refusedPort} failed: ECONNREFUSED`, 'm'));
  assert.match(r.stdout, new RegExp(`^${silent}: FAILED: ssh connect to root@127\\.0\\.0\\.1:${blackHole.port} timed out`, 'm'));
  assert.match(r.stdout, /^Plan: 23 host\(s\): 21 to change, 0 unchanged, 2 failed;/m);
  const verbose = await runCli('plan', '-f', specFile, '--connect-timeout', connectTimeout, '-v');
  for (const n of names.slice(0, 21)) assert.match(verbose.stdout, new RegExp(`^${n}: \\d+ change\\(s\\)`, 'm'), `-v: ${n} has its own block`);
});

test('apply: the others converge despite 2 unreachable hosts and 1 failing mid-apply; exit 1; the report is the counts and the failures; a re-run touches only the failed hosts', async () => {
  const started = Date.now();
  const r = await runCli('apply', '-f', specFile, '--accept-new-host-keys', '--connect-timeout', connectTimeout, '--wait-timeout', '5s');
  const wallMs = Date.now() - started;
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  // no line per host and phase: the counts every tenth of the way instead
  assert.doesNotMatch(r.stdout, /^s\d+: (connect|gather facts|files|done)/m, r.stdout);
  const counts = r.stdout.split('\n').filter((l) => /^\d+\/23 hosts done: /.test(l));
  assert.ok(counts.length >= 5 && counts.length <= 10, counts.join('\n'));
  assert.match(counts.at(-1)!, /^23\/23 hosts done: 20 changed, 0 unchanged, 3 failed$/);
  // a row for each failed host (with its error), none for the converged ones
  const rows = r.stdout.split('\n').filter((l) => /^s\d+\s+(changed|unchanged|failed|untouched)\s/.test(l));
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]).sort(), [failing, refused, silent].sort(), r.stdout);
  assert.match(r.stdout, /^changed: s1, s2, s3, s4, s6, s7, s8, s9, s10, s11 and 10 more \(-v lists every host\)$/m);
  assert.match(r.stdout, /^Apply: 23 host\(s\): 20 to change, 0 unchanged, 3 failed;/m);
  // each failure with its error, on stderr
  assert.match(r.stderr, new RegExp(`^${refused}: ssh connect to root@127\\.0\\.0\\.1:${refusedPort} failed: ECONNREFUSED`, 'm'));
  assert.match(r.stderr, new RegExp(`^${silent}: ssh connect to root@127\\.0\\.0\\.1:${blackHole.port} timed out`, 'm'));
  assert.match(r.stderr, new RegExp(`^${failing}: .*kubelet\\.service`, 'm'));
  assert.match(r.stderr, /apply failed on 3 of 23 host\(s\): s5, s22, s23/);
  // the silent host cost one connect timeout in one --parallel slot, not the run's length times it
  assert.ok(wallMs < 60_000, `apply took ${wallMs} ms`);
  for (const h of lab.hosts.filter((x) => x.name !== failing)) assert.ok((await lab.systemctlCalls(h)).some((l) => /^(start|restart) .*kubelet\.service/.test(l)), `${h.name}: kubelet started`);

  // the operator fixes the failing host; the unreachable ones stay down
  const fixed = lab.hosts.find((h) => h.name === failing)!;
  await rm(join(fixed.systemdDir, 'kubelet.service.broken'));
  const callsBefore = new Map(await Promise.all(lab.hosts.map(async (h) => [h.name, (await lab.systemctlCalls(h)).length] as const)));
  const again = await runCli('apply', '-f', specFile, '--connect-timeout', connectTimeout, '--wait-timeout', '5s', '--output', 'json');
  assert.equal(again.code, 1, `${again.stdout}\n${again.stderr}`);
  const lines = events(again.stdout);
  // streamed: one result per host as it finishes, the summary last
  assert.deepEqual(lines.slice(0, -1).map((e) => e.phase), names.map(() => 'result'));
  assert.deepEqual(lines.slice(0, -1).map((e) => e.host).sort(), [...names].sort());
  const last = lines.at(-1)!;
  assert.deepEqual([last.phase, last.status, last.summary?.hosts, last.summary?.changed, last.summary?.unchanged, last.summary?.failed], ['summary', 'failed', 23, 1, 20, 2]);
  const byHost = new Map(lines.filter((e) => e.result).map((e) => [e.host!, e.result!]));
  for (const n of names) {
    const res = byHost.get(n)!;
    if (n === refused || n === silent) assert.equal(res.status, 'failed', n);
    else if (n === failing) {
      assert.equal(res.status, 'changed', `${n}: converges once fixed`);
      assert.ok(res.actions.some((a) => a.kind === 'start' && /kubelet\.service/.test(a.summary)), `${n}: starts its kubelet: ${res.actions.map((a) => a.summary).join('; ')}`);
    } else assert.deepEqual([res.status, res.applied, res.actions], ['unchanged', 0, []], `${n}: nothing to do`);
  }
  assert.ok(byHost.get(silent)!.durationMs < 4_000 + 3_000, `the silent host gave up after --connect-timeout (${byHost.get(silent)!.durationMs} ms)`);
  // the converged hosts' units were not touched (the systemctl double logs every call)
  for (const h of lab.hosts) {
    const calls = (await lab.systemctlCalls(h)).slice(callsBefore.get(h.name));
    const changing = calls.filter((l) => /^(start|restart|stop|enable|disable|daemon-reload)\b/.test(l));
    if (h.name === failing) assert.ok(changing.some((l) => /kubelet\.service/.test(l)), `${h.name}: ${calls.join('; ')}`);
    else assert.deepEqual(changing, [], `${h.name}: no unit changed`);
  }
});

test('dead hosts fail in parallel: 20 hosts that never answer SSH cost about two connect timeouts at --parallel 10, not twenty', async () => {
  const desired = { name: 'x', files: [], binaries: [], units: [] } as unknown as RenderedHost;
  const hosts = Array.from({ length: 20 }, (_, i) => ({ name: `dead${i + 1}`, address: '127.0.0.1', port: blackHole.port, user: 'root' }));
  const started = Date.now();
  const outcomes = await runHosts(hosts.map((host) => ({ host: host as never, desired })), {
    mode: 'plan',
    parallel: 10,
    binaries: undefined as never,
    connect: (h) => connectHost(h, { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath, acceptNewHostKeys: false, connectTimeoutMs: 1000 }),
  });
  const wallMs = Date.now() - started;
  assert.deepEqual(outcomes.map((o) => o.status), hosts.map(() => 'failed'));
  assert.ok(outcomes.every((o) => /timed out/.test(String((o.error as Error).message))), String((outcomes[0]!.error as Error).message));
  assert.ok(wallMs >= 2000 && wallMs < 6000, `20 dead hosts at --parallel 10 with a 1 s timeout took ${wallMs} ms`);
});

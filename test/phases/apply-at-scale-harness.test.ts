// Failures at scale at N = 100 (issue 16): 98 hosts of the ssh harness (a TEST DOUBLE: one
// process, ssh2's Server, in-memory files and systemd; test/support/ssh-harness.ts), a port that
// refuses and a socket that never answers SSH. 5 unreachable: the refused port, the silent socket
// and 3 harness hosts that close connections before the handshake (sshd down); 1 fails
// mid-apply: its unit restarts fail after its files and binaries are written. The rest converge,
// exit 1, the output is counts plus failures, and a re-run after the faults are fixed touches the
// converged hosts with one command (the gather) and nothing else.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { plannedHosts } from '../../src/providers/provider.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { freePort } from '../support/free-port.ts';
import { serveLabBinaries, staticSpecYaml } from '../support/lab-spec.ts';
import { startSilentHost, type SilentHost } from '../support/silent-host.ts';
import { SshHarness, type HarnessHost } from '../support/ssh-harness.ts';

let dir: string;
let harness: SshHarness;
let silent: SilentHost;
let specFile: string;
const parallel = 50;
const down = ['n10', 'n20', 'n30'];
const failing = 'n50';
const dead = ['n99', 'n100'];
const failed = [...down, failing, ...dead];

const host = (name: string): HarnessHost => harness.hosts.find((h) => h.name === name)!;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-scale100-'));
  harness = await SshHarness.start({ count: 98, prefix: 'n' });
  silent = await startSilentHost();
  const privateKeyPath = join(dir, 'client_key');
  const knownHostsPath = join(dir, 'known_hosts');
  await writeFile(privateKeyPath, harness.clientKey.private, { mode: 0o600 });
  await writeFile(knownHostsPath, harness.knownHosts());
  const lab = { dir, hosts: harness.hosts, privateKeyPath, knownHostsPath };
  const deadHosts = [{ name: dead[0]!, port: await freePort() }, { name: dead[1]!, port: silent.port }];
  const spec = (pins?: Record<string, string>): string => staticSpecYaml({ name: 'scale100', lab, mirror: join(dir, 'mirror'), pins, deadHosts });
  specFile = join(dir, 'cluster.yaml');
  const cluster = parseCluster(spec(), specFile);
  await writeFile(specFile, spec(await serveLabBinaries(dir, cluster, plannedHosts(cluster))));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
  for (const n of down) host(n).faults.refuse = true;
  host(failing).faults.failRestart = true;
});

after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await harness?.stop();
  await silent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Line { host?: string; phase: string; status: string; result?: { status: string; applied: number; actions: { kind: string }[] }; summary?: { hosts: number; changed: number; unchanged: number; failed: number } }

test('100 hosts, 5 unreachable and 1 failing mid-apply: the rest converge, exit 1, counts and failures only; a re-run touches only the failed hosts', async (t) => {
  let started = Date.now();
  const r = await runCli('apply', '-f', specFile, '--parallel', String(parallel), '--connect-timeout', '4s', '--wait-timeout', '5s');
  t.diagnostic(`first apply of 100 hosts: ${Date.now() - started} ms, at most ${harness.connections.max} SSH connections open at once`);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(harness.unrecognised, []);
  assert.ok(harness.connections.max <= parallel, `connections ${harness.connections.max} > --parallel ${parallel}`);
  const lines = r.stdout.split('\n');
  assert.ok(lines.length < 40, `a summary, not a line per host: ${lines.length} lines\n${r.stdout}`);
  assert.match(r.stdout, /^100\/100 hosts done: 94 changed, 0 unchanged, 6 failed$/m);
  const rows = lines.filter((l) => /^n\d+\s+(changed|unchanged|failed|untouched)\s/.test(l)).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(rows.sort(), [...failed].sort(), r.stdout);
  assert.match(r.stdout, /^Apply: 100 host\(s\): 94 to change, 0 unchanged, 6 failed;/m);
  for (const n of down) assert.match(r.stderr, new RegExp(`^${n}: ssh connect(?:ion)? to root@127\\.0\\.0\\.1:\\d+ (?:failed: ECONNRESET|closed during the handshake)`, 'm'));
  assert.match(r.stderr, new RegExp(`^${dead[0]}: ssh connect to root@127\\.0\\.0\\.1:\\d+ failed: ECONNREFUSED`, 'm'));
  assert.match(r.stderr, new RegExp(`^${dead[1]}: ssh connect to root@127\\.0\\.0\\.1:${silent.port} timed out`, 'm'));
  assert.match(r.stderr, new RegExp(`^${failing}: .*\\.service`, 'm'));

  // the faults are fixed but for the two dead ports; the converged hosts' state is recorded
  for (const n of down) host(n).faults.refuse = false;
  host(failing).faults.failRestart = false;
  const converged = harness.hosts.filter((h) => !failed.includes(h.name));
  const before = new Map(converged.map((h) => [h.name, { commands: h.commands.length, files: JSON.stringify([...h.files].map(([p, f]) => [p, f.inode, f.mtime])) }]));
  harness.resetConnectionCount();
  started = Date.now();
  const again = await runCli('apply', '-f', specFile, '--parallel', String(parallel), '--connect-timeout', '4s', '--wait-timeout', '5s', '--output', 'json');
  t.diagnostic(`re-run: ${Date.now() - started} ms`);
  assert.equal(again.code, 1, `${again.stdout}\n${again.stderr}`);
  const events = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
  assert.equal(events.length, 101);
  const last = events.at(-1)!;
  assert.deepEqual([last.phase, last.summary?.hosts, last.summary?.changed, last.summary?.unchanged, last.summary?.failed], ['summary', 100, 4, 94, 2]);
  const result = new Map(events.slice(0, -1).map((e) => [e.host!, e.result!]));
  for (const n of [...down, failing]) assert.equal(result.get(n)?.status, 'changed', n);
  for (const n of dead) assert.equal(result.get(n)?.status, 'failed', n);
  for (const h of converged) {
    assert.deepEqual([result.get(h.name)?.status, result.get(h.name)?.applied, result.get(h.name)?.actions], ['unchanged', 0, []], h.name);
    const was = before.get(h.name)!;
    assert.deepEqual(h.commands.slice(was.commands), ['gather'], `${h.name}: one command, the gather`);
    assert.equal(JSON.stringify([...h.files].map(([p, f]) => [p, f.inode, f.mtime])), was.files, `${h.name}: no file written`);
  }
  assert.ok(harness.connections.max <= parallel);
});

test('on a terminal, apply over 100 hosts draws one listr2 row with the counts, not a row per host', async () => {
  const env = { ...process.env };
  delete env['CI'];
  const repo = new URL('../..', import.meta.url).pathname;
  const cli = `node --import tsx ${join(repo, 'src/cli/main.ts')} apply -f ${specFile} --parallel ${parallel} --connect-timeout 4s`;
  // script gives the command a pseudo-terminal (as in test/cli/up-progress.test.ts); this process keeps serving the harness
  const raw = await new Promise<string>((resolve) => {
    execFile('script', ['-qec', `stty cols 200 rows 40; ${cli}`, '/dev/null'], { cwd: repo, env, timeout: 120_000 }, (_err, stdout) => resolve(stdout));
  });
  // eslint-disable-next-line no-control-regex -- terminal escape sequences, as a pty carries them
  const text = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  assert.ok(raw.includes('\x1b[1A'), 'the display redraws in place (cursor up)');
  // the row keeps the counts current while the hosts run, and is crossed at the end (2 hosts stay dead)
  assert.match(text, /^ {2}› \d+\/100 hosts done: \d+ changed, \d+ unchanged, \d+ failed$/m, text);
  assert.match(text, /^✖ 100 hosts$/m, text);
  assert.doesNotMatch(text, /^\s*[✔✖↓◼] n\d+/m, 'no row per host');
  assert.match(text, /^Apply: 100 host\(s\): \d+ to change, \d+ unchanged, [1-9]\d* failed;/m);
});

// How `up` shows progress: `[k/n]` lines when stdout is not a terminal, nothing but failures with
// -q, and listr2 rows on a real pseudo-terminal (util-linux `script`). The run is a real `up` on a
// static host whose SSH key is missing, so it stops at the apply step after provision and PKI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

const repo = new URL('../..', import.meta.url).pathname;
let dir = '';
let spec = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-up-progress-'));
  spec = join(dir, 'cluster.yaml');
  await writeFile(spec, `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: progress }
profile: modern
kubernetes: { version: "1.36.2", apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [{ name: w1, address: 127.0.0.1, port: 1 }] } }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
pki: { dir: ./pki }
`);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;?]*[A-Za-z]/g;

test('without a terminal up prints one plain [k/9] line per step event, and the failed step on stderr', async () => {
  const r = await runCli('up', '-f', spec);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stdout, /^\[1\/9\] provision: 1 hosts ready \(0 created\)$/m);
  assert.match(r.stdout, /^\[2\/9\] pki: \d+ issued \(ca, /m);
  assert.match(r.stdout, /^\[3\/9\] etcd-cluster: skipped: no controlPlane section/m);
  assert.match(r.stdout, /^\[4\/9\] control-plane: skipped: no controlPlane section/m);
  assert.match(r.stdout, /^\[5\/9\] etcd: skipped: no etcd\.discovery in the spec/m);
  assert.match(r.stderr, /^\[6\/9\] apply: failed: ssh\.privateKeyPath: cannot read /m);
  assert.doesNotMatch(r.stdout + r.stderr, /\[7\/9\]|\[8\/9\]|\[9\/9\]/, 'nothing after the failed step');
  assert.doesNotMatch(r.stdout, ansi, 'no terminal codes');
  assert.match(r.stdout, /^Up stopped at apply: /m);
});

test('up -q prints no progress, only the failure and the final report', async () => {
  const r = await runCli('up', '-f', spec, '-q');
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stdout, /\[\d\/9\]/);
  assert.match(r.stderr, /^\[6\/9\] apply: failed: /m);
  assert.match(r.stdout, /^NODE\s+PUBLIC/m);
  assert.match(r.stdout, /^Up stopped at apply: /m);
});

test('on a terminal up draws listr2 rows: steps ticked with their result, the failed one crossed, the rest not run', async () => {
  const env = { ...process.env };
  delete env['CI'];
  const cli = `node --import tsx ${join(repo, 'src/cli/main.ts')} up -f ${spec}`;
  // script gives the command a pseudo-terminal; stty sets a width (a bare pty reports 0 columns)
  const raw = await new Promise<string>((resolve) => {
    execFile('script', ['-qec', `stty cols 160 rows 40; ${cli}`, '/dev/null'], { cwd: repo, env, timeout: 120_000 }, (_err, stdout) => resolve(stdout));
  });
  assert.ok(raw.includes('\x1b[1A'), 'the display redraws in place (cursor up)');
  const text = raw.replace(ansi, '').replace(/\r/g, '');
  const lastFrame = text.slice(text.lastIndexOf('✔ provision: '));
  assert.match(lastFrame, /^✔ provision: 1 hosts ready \(0 created\)$/m);
  assert.match(text, /^✔ pki: /m);
  assert.match(lastFrame, /^↓ etcd: no etcd\.discovery in the spec/m);
  assert.match(lastFrame, /^✖ apply$/m);
  assert.match(lastFrame, /^↓ verify: not run$/m);
  assert.doesNotMatch(text, /\[\d\/9\]/, 'no plain step lines on a terminal');
  assert.match(lastFrame, /^Up stopped at apply: /m);
});

// Two runs at once (issue 12 item 5): a per-cluster lock file around provision, pki, apply, up
// and down. The holder here is another process; the contender runs the CLI in-process, and in
// the last test several real CLI processes race on `pki init`.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { modernSpec } from '../pki/pki-workspace.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let root: string;
const children = new Set<ChildProcess>();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kw-lock-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function clusterDir(): Promise<{ dir: string; spec: string; lock: string }> {
  const dir = join(root, `c${n++}`);
  await mkdir(dir);
  const spec = join(dir, 'cluster.yaml');
  await writeFile(spec, modernSpec());
  return { dir, spec, lock: join(dir, '.kubewright', 'pkitest', 'lock') };
}

/** Starts the holder process and resolves once it holds the lock. */
async function holder(spec: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/support/hold-cluster-lock.ts'), spec, 'up'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

test('a second run exits at once with the holder\'s PID, and writes nothing', async () => {
  const c = await clusterDir();
  const h = await holder(c.spec);
  try {
    for (const args of [['pki', 'init'], ['pki', 'issue'], ['apply'], ['up'], ['provision'], ['down', '--yes']]) {
      const r = await runCli(...args, '-f', c.spec);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`cluster pkitest is locked by kubewright up \\(pid ${h.pid} on `), args.join(' '));
      assert.match(r.stderr, /--lock-timeout/);
    }
    assert.deepEqual((await readdir(c.dir)).sort(), ['.kubewright', 'cluster.yaml'], 'no pki/ was written');
  } finally {
    h.kill('SIGTERM');
    await exited(h);
  }
});

test('with --lock-timeout a second run waits for the holder and then runs', async () => {
  const c = await clusterDir();
  const h = await holder(c.spec);
  const started = Date.now();
  const waiting = runCli('pki', 'init', '-f', c.spec, '--lock-timeout', '60s');
  await new Promise((r) => setTimeout(r, 1_500));
  await assert.rejects(stat(join(c.dir, 'pki')), { code: 'ENOENT' }, 'nothing happens while the holder runs');
  h.kill('SIGTERM');
  await exited(h);
  const r = await waiting;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started >= 1_500, 'it waited');
  assert.match(r.stdout, /issue\s+ca/);
  await assert.rejects(stat(c.lock), { code: 'ENOENT' }, 'the lock is released when the command ends');
});

test('a lock whose process died is taken over; so is one whose PID now belongs to another process', async () => {
  const c = await clusterDir();
  const h = await holder(c.spec);
  h.kill('SIGKILL');
  await exited(h);
  assert.ok((await stat(c.lock)).isFile(), 'the killed holder left its lock file');
  let r: CliResult = await runCli('pki', 'init', '-f', c.spec);
  assert.equal(r.code, 0, r.stderr);

  // a live PID (this test process) with another start time: the PID was reused
  const reused = { pid: process.pid, start: '1', boot: undefined, host: hostname(), purpose: 'up', since: '2026-01-01T00:00:00Z' };
  await writeFile(c.lock, `${JSON.stringify(reused)}\n`);
  r = await runCli('pki', 'issue', '-f', c.spec);
  assert.equal(r.code, 0, r.stderr);

  // the same PID with its real start time is a live holder
  const start = (await readFile(`/proc/${process.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[19];
  await writeFile(c.lock, `${JSON.stringify({ ...reused, start })}\n`);
  r = await runCli('pki', 'issue', '-f', c.spec);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`pid ${process.pid}`));
  await rm(c.lock);
});

function runProcess(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('three `pki init` processes at once on an empty PKI: one creates the CA, the others keep it; key and certificate match', async () => {
  const c = await clusterDir();
  const results = await Promise.all([1, 2, 3].map(() => runProcess('pki', 'init', '-f', c.spec, '--lock-timeout', '120s')));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const verbs = results.map((r) => /^\s+(\w+)\s+ca\s/m.exec(r.stdout)?.[1]).sort();
  assert.deepEqual(verbs, ['issue', 'keep', 'keep']);
  const pki = join(c.dir, 'pki');
  // loading checks that the key belongs to the certificate
  loadCertificateAuthority({ certPem: await readFile(join(pki, 'ca.pem'), 'utf8'), keyPem: await readFile(join(pki, 'ca-key.pem'), 'utf8'), certFile: 'ca.pem', keyFile: 'ca-key.pem' });
});

test('pki init --force keeps the old CA in pki/backup/<time>/ (key 0600)', async () => {
  const c = await clusterDir();
  assert.equal((await runCli('pki', 'init', '-f', c.spec)).code, 0);
  const pki = join(c.dir, 'pki');
  const [oldCert, oldKey] = await Promise.all([readFile(join(pki, 'ca.pem'), 'utf8'), readFile(join(pki, 'ca-key.pem'), 'utf8')]);
  const r = await runCli('pki', 'init', '-f', c.spec, '--force');
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(await readFile(join(pki, 'ca.pem'), 'utf8'), oldCert, 'a new CA');
  const [stamp] = await readdir(join(pki, 'backup'));
  assert.ok(stamp, 'a backup folder');
  assert.match(r.stdout, new RegExp(`old CA is kept in .*backup/${stamp}`));
  assert.equal(await readFile(join(pki, 'backup', stamp, 'ca.pem'), 'utf8'), oldCert);
  assert.equal(await readFile(join(pki, 'backup', stamp, 'ca-key.pem'), 'utf8'), oldKey);
  assert.equal((await stat(join(pki, 'backup', stamp, 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(pki, 'backup', stamp))).mode & 0o777, 0o700);
});

// The SSH executor's sudo mode (issue 5) with real non-root logins: one loopback sshd, a
// throwaway user with NOPASSWD sudo and one without; files go into a root-owned 0755 temp dir.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CommandError } from '../../src/exec/command-result.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { startSshdHosts, type SshdHost, type SshdHosts } from '../support/sshd-hosts.ts';
import { createUser, type SudoUser } from '../support/sudo-users.ts';

const run = promisify(execFile);

let lab: SshdHosts | undefined;
let host: SshdHost;
let sudoer: SudoUser | undefined;
let plain: SudoUser | undefined;
let targetDir: string | undefined;
/** root-owned 0755: only root may create files in it */
let confDir: string;

before(async () => {
  sudoer = await createUser('kwsudo', { sudo: true });
  plain = await createUser('kwnosudo', { sudo: false });
  lab = await startSshdHosts(1, 'sudo');
  host = lab.hosts[0]!;
  // AuthorizedKeysFile is read as the login user: let it reach the key file (only the key file)
  await chmod(lab.dir, 0o711);
  await chmod(host.dir, 0o711);
  await chmod(join(host.dir, 'authorized_keys'), 0o644);
  targetDir = await mkdtemp('/tmp/kw-sudo-target-');
  await chmod(targetDir, 0o755);
  confDir = join(targetDir, 'conf');
  await mkdir(confDir, { mode: 0o755 });
});

after(async () => {
  await lab?.stop();
  if (targetDir) await rm(targetDir, { recursive: true, force: true });
  for (const u of [sudoer, plain]) {
    if (!u) continue;
    const uid = await uidOf(u.name).catch(() => undefined);
    await u.remove();
    if (uid !== undefined) await removeStagingDirsOf(uid);
  }
});

async function uidOf(user: string): Promise<number> {
  return Number((await run('id', ['-u', user])).stdout.trim());
}

/** /tmp/.kubewright-* staging dirs owned by `uid` */
async function stagingDirsOf(uid: number): Promise<string[]> {
  const found: string[] = [];
  for (const n of await readdir('/tmp')) {
    if (!n.startsWith('.kubewright-')) continue;
    const s = await stat(join('/tmp', n)).catch(() => undefined);
    if (s?.uid === uid) found.push(n);
  }
  return found;
}

async function removeStagingDirsOf(uid: number): Promise<void> {
  for (const n of await stagingDirsOf(uid)) await rm(join('/tmp', n), { recursive: true, force: true });
}

function connect(user: string, sudo?: boolean): Promise<SshExecutor> {
  assert.ok(lab);
  return SshExecutor.connect(
    { name: host.name, address: host.address, port: host.port, user },
    { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath, ...(sudo === undefined ? {} : { sudo }) },
  );
}

test('a non-root user in sudo mode (the default for non-root) runs commands as root', async () => {
  assert.ok(sudoer);
  const x = await connect(sudoer.name);
  try {
    assert.equal((await x.exec('id -u')).stdout.trim(), '0');
    assert.equal((await x.exec('id -un')).stdout.trim(), 'root');
    assert.equal((await x.exec('cat', { stdin: 'piped through sudo' })).stdout, 'piped through sudo');
    const r = await x.exec("echo 'quoted $HOME'; exit 5", { allowFailure: true });
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'quoted $HOME\n');
  } finally {
    await x.close();
  }
});

test('put in sudo mode installs a file into a root-owned 0755 dir owned by root:root with its mode, atomically', async () => {
  assert.ok(sudoer);
  const uid = await uidOf(sudoer.name);
  const path = join(confDir, 'kubelet.conf');
  const x = await connect(sudoer.name);
  try {
    await x.put({ path, contents: 'first\n', mode: 0o640 });
    let s = await stat(path);
    assert.deepEqual({ uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 }, { uid: 0, gid: 0, mode: 0o640 });
    assert.equal(await readFile(path, 'utf8'), 'first\n');
    const firstInode = s.ino;

    // replacing goes through a new file renamed over the old one, never an in-place rewrite
    await x.put({ path, contents: 'second\n', mode: 0o600 });
    s = await stat(path);
    assert.deepEqual({ uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 }, { uid: 0, gid: 0, mode: 0o600 });
    assert.equal(await readFile(path, 'utf8'), 'second\n');
    assert.notEqual(s.ino, firstInode);

    // a missing parent dir is created (by root, 0755)
    const nested = join(confDir, 'new', 'deep', 'unit.service');
    await x.put({ path: nested, contents: Buffer.from([0, 1, 2, 255]), mode: 0o644 });
    const d = await stat(join(confDir, 'new'));
    assert.deepEqual({ uid: d.uid, mode: d.mode & 0o7777 }, { uid: 0, mode: 0o755 });
    assert.deepEqual([...(await readFile(nested))], [0, 1, 2, 255]);

    // a root-only file is read back through sudo
    assert.equal((await x.read(path))?.toString(), 'second\n');
    assert.equal(await x.read(join(confDir, 'absent')), undefined);

    assert.deepEqual((await readdir(confDir)).sort(), ['kubelet.conf', 'new']);
    assert.deepEqual(await readdir(join(confDir, 'new', 'deep')), ['unit.service']);
    assert.deepEqual(await stagingDirsOf(uid), [], 'nothing is staged in /tmp: the bytes are streamed to a root shell');
  } finally {
    await x.close();
  }
});

/** The per-connection sshd processes of the test host: its listener's descendants (privsep parent, session child). */
async function sessionPids(parent = host.process.pid): Promise<number[]> {
  const r = await run('pgrep', ['-P', String(parent)]).catch(() => ({ stdout: '' }));
  const children = r.stdout.split('\n').filter(Boolean).map(Number);
  const below = await Promise.all(children.map((c) => sessionPids(c)));
  return [...children, ...below.flat()];
}

test('in sudo mode a secret never rests in /tmp, and a connection dropped mid-transfer leaves no partial file', async () => {
  assert.ok(sudoer);
  const uid = await uidOf(sudoer.name);
  const path = join(confDir, 'secret-key.pem');
  const secret = Buffer.alloc(48 * 1024 * 1024, 'SECRET-KEY-MATERIAL\n');
  const before = new Set(await sessionPids());
  const x = await connect(sudoer.name);
  const mine = (await sessionPids()).filter((p) => !before.has(p));
  assert.ok(mine.length > 0, 'found the sshd session of this connection');
  let sawInTmp = false;
  let sawTemp = false;
  const put = x.put({ path, contents: secret, mode: 0o600 }).then(() => 'done', (e: unknown) => e);
  // drop the connection once the transfer is under way: kill this connection's sshd processes
  for (let i = 0; i < 2000; i++) {
    if ((await stagingDirsOf(uid)).length > 0) sawInTmp = true;
    if ((await readdir(confDir)).some((n) => n.startsWith('.secret-key.pem'))) {
      sawTemp = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  // only the sshd processes of this connection (all started by this test's sshd), not the root shell below them
  const sshd = [];
  for (const pid of mine) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'sshd' || comm.startsWith('sshd')) sshd.push(pid);
  }
  for (const pid of sshd) process.kill(pid, 'SIGKILL');
  const outcome = await put;
  await x.close().catch(() => undefined);
  assert.ok(sawTemp, 'the transfer was under way when the connection dropped');
  assert.notEqual(outcome, 'done', 'the put fails with the connection');
  assert.equal(sawInTmp, false, 'no staged copy in /tmp');
  assert.deepEqual(await stagingDirsOf(uid), [], 'nothing left in /tmp');
  // the root shell on the host sees a short input and removes its temp file (bounded wait: it may still be reading)
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = (await readdir(confDir)).filter((n) => n.startsWith('.secret-key.pem') || n === 'secret-key.pem');
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(left, [], 'no partial file beside the target, and no truncated target');
});

test('the same user without sudo mode cannot write the root-owned dir', async () => {
  assert.ok(sudoer);
  const x = await connect(sudoer.name, false);
  try {
    assert.notEqual((await x.exec('id -u')).stdout.trim(), '0');
    const path = join(confDir, 'denied.conf');
    await assert.rejects(x.put({ path, contents: 'no\n', mode: 0o644 }), /Permission denied/);
    await assert.rejects(x.exec(`touch ${path}`), (e: unknown) => e instanceof CommandError && /Permission denied/.test(e.message));
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.equal((await readdir(confDir)).filter((n) => n.startsWith('.denied.conf')).length, 0, 'no temp file left');
  } finally {
    await x.close();
  }
});

test('a user without sudo rights gets an error naming sudo and how to grant it', async () => {
  assert.ok(plain);
  const x = await connect(plain.name);
  try {
    const e = await x.exec('id -u').then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof CommandError, `expected a CommandError, got ${String(e)}`);
    assert.equal(e.host, host.name);
    assert.match(e.message, /sudo/);
    assert.match(e.hint ?? '', new RegExp(`${plain.name}.*NOPASSWD|NOPASSWD.*${plain.name}`));
    const path = join(confDir, 'nosudo.conf');
    await assert.rejects(x.put({ path, contents: 'no\n', mode: 0o644 }), (err: unknown) => err instanceof CommandError && /sudo: a password is required/.test(err.message) && /NOPASSWD/.test(err.hint ?? ''));
    await assert.rejects(stat(path), { code: 'ENOENT' });
  } finally {
    await x.close();
  }
});

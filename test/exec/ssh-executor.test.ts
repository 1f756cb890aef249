import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CommandError } from '../../src/exec/command-result.ts';
import { HostKeyError } from '../../src/exec/ssh-errors.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { startSshdHosts, type SshdHost, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
before(async () => {
  lab = await startSshdHosts(3, 'ex');
});
after(async () => {
  await lab?.stop();
});

function connect(h: SshdHost, extra: { knownHostsPath?: string; acceptNewHostKeys?: boolean } = {}): Promise<SshExecutor> {
  return SshExecutor.connect(
    { name: h.name, address: h.address, port: h.port, user: 'root' },
    { privateKey: lab.privateKey, knownHostsPath: extra.knownHostsPath ?? lab.knownHostsPath, acceptNewHostKeys: extra.acceptNewHostKeys ?? false },
  );
}

test('exec on three hosts at once returns command, stdout, stderr and exit code over one connection each', async () => {
  const xs = await Promise.all(lab.hosts.map((h) => connect(h)));
  try {
    const results = await Promise.all(xs.map((x) => x.exec('echo out; echo err >&2')));
    for (const r of results) assert.deepEqual(r, { command: 'echo out; echo err >&2', stdout: 'out\n', stderr: 'err\n', code: 0 });
    for (const x of xs) for (let i = 0; i < 5; i++) await x.exec('true');
  } finally {
    await Promise.all(xs.map((x) => x.close()));
  }
  for (const h of lab.hosts) {
    const log = await readFile(h.logFile, 'utf8');
    assert.equal(log.match(/Accepted publickey/g)?.length, 1, `${h.name}: one SSH login for 7 commands`);
  }
});

test('a failing command rejects with a CommandError that is its result', async () => {
  const x = await connect(lab.hosts[0]!);
  try {
    const e = await x.exec('echo partial; echo broken >&2; exit 7').then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 7);
    assert.equal(e.stdout, 'partial\n');
    assert.equal(e.stderr, 'broken\n');
    assert.equal(e.host, 'ex1');
    assert.match(e.message, /exit code 7/);
    const r = await x.exec('exit 3', { allowFailure: true });
    assert.equal(r.code, 3);
    assert.equal((await x.exec('cat', { stdin: 'piped' })).stdout, 'piped');
  } finally {
    await x.close();
  }
});

test('put writes files inside the fake root atomically with their mode and leaves no temp file', async () => {
  const h = lab.hosts[1]!;
  const x = await connect(h);
  try {
    await x.put({ path: '/etc/kw/a.conf', mode: 0o600, contents: 'one\n' });
    await x.put({ path: '/etc/kw/a.conf', mode: 0o640, contents: 'two\n' });
    const big = randomBytes(300_000);
    await x.put({ path: '/etc/kw/big.bin', mode: 0o644, contents: big });
    assert.equal(await readFile(join(h.root, 'etc/kw/a.conf'), 'utf8'), 'two\n');
    assert.equal((await stat(join(h.root, 'etc/kw/a.conf'))).mode & 0o777, 0o640);
    assert.ok(big.equals(await readFile(join(h.root, 'etc/kw/big.bin'))));
    assert.deepEqual((await readdir(join(h.root, 'etc/kw'))).sort(), ['a.conf', 'big.bin']);
    assert.equal((await x.read('/etc/kw/a.conf'))?.toString(), 'two\n');
    assert.equal(await x.read('/etc/kw/missing'), undefined);
    // commands on the host see it at its absolute path (the host confines the session to its root)
    assert.equal((await x.exec('cat /etc/kw/a.conf')).stdout, 'two\n');
    // and nothing reached this machine's own /etc
    assert.equal(existsSync('/etc/kw'), false);
  } finally {
    await x.close();
  }
});

test('upload streams a local file byte-identically with an executable mode', async () => {
  const h = lab.hosts[2]!;
  const local = join(lab.dir, 'payload.bin');
  const data = randomBytes(2_500_000);
  await writeFile(local, data);
  const x = await connect(h);
  try {
    await x.upload(local, '/usr/local/bin/payload', 0o755);
  } finally {
    await x.close();
  }
  assert.ok(data.equals(await readFile(join(h.root, 'usr/local/bin/payload'))));
  assert.equal((await stat(join(h.root, 'usr/local/bin/payload'))).mode & 0o777, 0o755);
});

test('an unknown host key is refused unless new keys are accepted, then it is recorded', async () => {
  const h = lab.hosts[0]!;
  const known = join(lab.dir, 'known_hosts.empty');
  await writeFile(known, '');
  const e = await connect(h, { knownHostsPath: known }).then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof HostKeyError, String(e));
  assert.equal(e.reason, 'unknown');
  assert.match(e.describe(), /^ex1: host key of \[127\.0\.0\.1\]:\d+ is not in .* --accept-new-host-keys/);
  assert.equal(await readFile(known, 'utf8'), '', 'nothing recorded when refused');

  const x = await connect(h, { knownHostsPath: known, acceptNewHostKeys: true });
  await x.close();
  assert.equal((await readFile(known, 'utf8')).trim(), h.knownHostsLine);
  const again = await connect(h, { knownHostsPath: known });
  await again.close();
});

test('a changed host key is refused even with accept-new, and nothing is written', async () => {
  const [a, b] = [lab.hosts[0]!, lab.hosts[1]!];
  // b's key listed under a's address: a presents a different key of the same type
  const known = join(lab.dir, 'known_hosts.changed');
  await writeFile(known, `${b.knownHostsLine.replace(`]:${b.port} `, `]:${a.port} `)}\n`);
  const before = await readdir(a.root);
  const e = await connect(a, { knownHostsPath: known, acceptNewHostKeys: true }).then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof HostKeyError, String(e));
  assert.equal(e.reason, 'changed');
  assert.match(e.message, /does not match .*known_hosts\.changed:1/);
  assert.deepEqual(await readdir(a.root), before);
  assert.equal(await readFile(known, 'utf8'), `${b.knownHostsLine.replace(`]:${b.port} `, `]:${a.port} `)}\n`, 'known_hosts untouched');
});

// SSH trust across key types (issue 12 item 4), with real sshd on loopback: a host pinned as
// ed25519 that shows up with an ECDSA key is a changed host (refused even with
// --accept-new-host-keys), the handshake offers only the pinned types, and known_hosts is
// rewritten atomically under a lock so that concurrent writers lose no line.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { appendKnownHost, checkHostKey } from '../../src/exec/known-hosts.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { HostKeyError } from '../../src/exec/ssh-errors.ts';
import { updateKnownHosts } from '../../src/providers/digitalocean/known-hosts.ts';
import { acceptsSsh, startSshdHosts, type SshdHost, type SshdHosts } from '../support/sshd-hosts.ts';

const run = promisify(execFile);
let lab: SshdHosts | undefined;
let host: SshdHost;
let scratch: string;

before(async () => {
  lab = await startSshdHosts(1, 'keytype');
  host = lab.hosts[0]!;
  scratch = await mkdtemp(join(tmpdir(), 'kw-keytype-'));
  await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-C', 'impostor', '-f', join(host.dir, 'ssh_host_ecdsa_key')]);
});

after(async () => {
  await lab?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** Restarts the host's sshd (same port) serving exactly these host key files, in this order. */
async function serveKeys(...keys: string[]): Promise<void> {
  const config = await readFile(join(host.dir, 'sshd_config'), 'utf8');
  const lines = config.split('\n').filter((l) => !l.startsWith('HostKey '));
  lines.unshift(...keys.map((k) => `HostKey ${join(host.dir, k)}`));
  await writeFile(join(host.dir, 'sshd_config'), lines.join('\n'));
  await new Promise<void>((resolve) => {
    if (host.process.exitCode !== null || host.process.signalCode !== null) return resolve();
    host.process.once('exit', () => resolve());
    host.process.kill('SIGTERM');
  });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(host.dir, 'sshd_config'), '-E', host.logFile], { stdio: 'ignore' });
  host.process = child;
  for (let i = 0; i < 300; i++) {
    if (await acceptsSsh(host.address, host.port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not come back on port ${host.port}; see ${host.logFile}`);
}

async function knownHostsWith(text: string): Promise<string> {
  const path = join(scratch, `known_hosts-${randomBytes(4).toString('hex')}`);
  await writeFile(path, text);
  return path;
}

function connect(knownHostsPath: string, acceptNewHostKeys: boolean): Promise<SshExecutor> {
  assert.ok(lab);
  return SshExecutor.connect({ name: host.name, address: host.address, port: host.port, user: 'root' }, { privateKey: lab.privateKey, knownHostsPath, acceptNewHostKeys, readyTimeoutMs: 30_000 });
}

async function pubLine(file: string): Promise<string> {
  const [type, key] = (await readFile(join(host.dir, file), 'utf8')).trim().split(/\s+/);
  return `[${host.address}]:${host.port} ${type} ${key}\n`;
}

test('a host pinned as ed25519 that presents only an ECDSA key is changed: refused even with --accept-new-host-keys, nothing appended', async () => {
  await serveKeys('ssh_host_ecdsa_key');
  const pinned = await pubLine('ssh_host_ed25519_key.pub');
  const file = await knownHostsWith(pinned);
  const e = await connect(file, true).then((x) => x.close().then(() => undefined), (err: unknown) => err);
  assert.ok(e instanceof HostKeyError, `expected a HostKeyError, got ${String(e)}`);
  assert.equal(e.reason, 'changed');
  assert.match(e.message, /ssh-ed25519/);
  assert.match(e.message, /man-in-the-middle/);
  assert.equal(await readFile(file, 'utf8'), pinned, 'known_hosts is unchanged');
});

test('a host with ECDSA and ed25519 keys is verified by the pinned type alone (ssh2 would pick ed25519 first)', async () => {
  // ECDSA first in sshd's list, ed25519 also offered: only the pinned ECDSA may be negotiated
  await serveKeys('ssh_host_ecdsa_key', 'ssh_host_ed25519_key');
  const pinned = await pubLine('ssh_host_ecdsa_key.pub');
  const file = await knownHostsWith(pinned);
  const x = await connect(file, false);
  try {
    assert.equal((await x.exec('echo ok')).stdout, 'ok\n');
  } finally {
    await x.close();
  }
  assert.equal(await readFile(file, 'utf8'), pinned);
});

test('an unknown host is still accepted with --accept-new-host-keys, and its key is added once', async () => {
  await serveKeys('ssh_host_ed25519_key');
  const file = await knownHostsWith('# other hosts\n');
  for (let i = 0; i < 2; i++) {
    const x = await connect(file, true);
    await x.close();
  }
  assert.equal(await readFile(file, 'utf8'), `# other hosts\n${await pubLine('ssh_host_ed25519_key.pub')}`);
});

function fakeKey(i: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(type.length);
  const body = Buffer.alloc(36, i);
  return Buffer.concat([head, type, body]);
}

test('concurrent known_hosts writers (appends and provider rewrites) lose no line', async () => {
  const file = await knownHostsWith('');
  const appends = Array.from({ length: 40 }, (_, i) => appendKnownHost(file, `10.1.0.${i}`, fakeKey(i)));
  const rewrites = Array.from({ length: 10 }, (_, i) => updateKnownHosts(file, [{ names: [`w${i}.example.com`, `10.2.0.${i}`], publicKey: `ssh-ed25519 ${fakeKey(100 + i).toString('base64')}` }]));
  await Promise.all([...appends, ...rewrites]);
  const text = await readFile(file, 'utf8');
  for (let i = 0; i < 40; i++) assert.equal(checkHostKey(text, `10.1.0.${i}`, fakeKey(i)).kind, 'known', `append ${i} survived`);
  for (let i = 0; i < 10; i++) assert.equal(checkHostKey(text, `10.2.0.${i}`, fakeKey(100 + i)).kind, 'known', `rewrite ${i} survived`);
  assert.equal(text.split('\n').filter(Boolean).length, 50);
  assert.deepEqual((await import('node:fs/promises').then((fs) => fs.readdir(scratch))).filter((n) => n.includes('.lock') || n.endsWith('.tmp')), [], 'no lock or temp file left');
});

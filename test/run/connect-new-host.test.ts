// up's SSH wait on a host the provider has just created: cloud-init installs root's authorized
// key and the pinned host key, and an sshd started early (socket activation) answers before. On a
// real loopback sshd: a failed authentication is retried until the key is there (a host that
// existed before fails at once), and a host key that does not match the pin is retried until the
// wait ends, never trusted.
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HostKeyError, SshConnectionError } from '../../src/exec/ssh-errors.ts';
import { connectHost, type ConnectOptions } from '../../src/run/connect.ts';
import type { Host } from '../../src/spec/host.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let host: Host;
let opts: ConnectOptions;

before(async () => {
  lab = await startSshdHosts(1, 'cn');
  const h = lab.hosts[0]!;
  host = { name: h.name, address: h.address, port: h.port, user: 'root' };
  opts = { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath, acceptNewHostKeys: false };
});
after(async () => {
  await lab?.stop();
});

test('a new host refusing our key is retried until cloud-init has put it in authorized_keys; an old host fails at once', async () => {
  const keys = join(lab.hosts[0]!.dir, 'authorized_keys');
  await rename(keys, `${keys}.later`);
  try {
    let started = Date.now();
    const old = await connectHost(host, { ...opts, waitForSshMs: 10_000 }).catch((e: unknown) => e);
    assert.ok(old instanceof SshConnectionError, String(old));
    assert.match(old.message, /ssh authentication as root@127\.0\.0\.1:\d+ failed$/);
    assert.ok(Date.now() - started < 5_000, `an existing host is not waited for (${Date.now() - started} ms)`);

    started = Date.now();
    // "cloud-init" installs the key 2 s later
    const install = new Promise<void>((r) => setTimeout(r, 2_000)).then(() => rename(`${keys}.later`, keys));
    const x = await connectHost(host, { ...opts, waitForSshMs: 15_000, newHost: true });
    await install;
    try {
      assert.equal((await x.exec('echo in')).stdout, 'in\n');
    } finally {
      await x.close();
    }
    assert.ok(Date.now() - started >= 2_000, 'connected only once the key was there');
  } finally {
    await rename(`${keys}.later`, keys).catch(() => undefined);
  }
});

test('a new host whose key does not match the pin is asked again until the wait ends, and refused, never trusted', async () => {
  // known_hosts pins another ed25519 key for the host (the one user_data would install)
  const other = join(lab.dir, 'other_known_hosts');
  const pinned = (await readFile(lab.knownHostsPath, 'utf8')).replace(/ssh-ed25519 \S+/, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEjRd1vWaZvrFRy+x+ENJi3+5vI5orRuQ3DROeLI3GOJ');
  await writeFile(other, pinned);
  const logins = async (): Promise<number> => ((await readFile(lab.hosts[0]!.logFile, 'utf8')).match(/Connection from|Connection closed|kex_exchange|disconnect/gi) ?? []).length;

  let started = Date.now();
  const old = await connectHost(host, { ...opts, knownHostsPath: other, waitForSshMs: 10_000 }).catch((e: unknown) => e);
  assert.ok(old instanceof HostKeyError && old.reason === 'changed', String(old));
  assert.ok(Date.now() - started < 5_000, 'an existing host with a changed key is refused at once');

  const before = await logins();
  started = Date.now();
  const fresh = await connectHost(host, { ...opts, knownHostsPath: other, waitForSshMs: 3_500, newHost: true }).catch((e: unknown) => e);
  assert.ok(fresh instanceof HostKeyError && fresh.reason === 'changed', String(fresh));
  assert.ok(Date.now() - started >= 2_500, `retried for the wait (${Date.now() - started} ms)`);
  assert.ok((await logins()) > before, 'the host was asked again');
  assert.equal(await readFile(other, 'utf8'), pinned, 'known_hosts is untouched: nothing was trusted');
});

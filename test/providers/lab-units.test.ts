// Pure parts of the lab provider: addresses, prerequisites, known_hosts pinning.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { labAddressPlan } from '../../src/providers/lab/lab-address-plan.ts';
import { LabPrerequisiteError } from '../../src/providers/lab/lab-errors.ts';
import { checkLabPrerequisites } from '../../src/providers/lab/lab-prerequisites.ts';
import { pinKnownHosts, unpinKnownHosts } from '../../src/providers/lab/lab-ssh-keys.ts';
import { nspawnArgs } from '../../src/providers/lab/lab-machine.ts';
import { defaultRootfsDir, ensureRootfsImage } from '../../src/providers/lab/rootfs-image.ts';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';

test('lab machines get .11, .12, ... and the host keeps .1', () => {
  const plan = labAddressPlan('10.213.5.0/24', 3);
  assert.deepEqual(plan, { prefix: 24, bridgeAddress: '10.213.5.1', machines: ['10.213.5.11', '10.213.5.12', '10.213.5.13'] });
});

test('a subnet too small for the machines is refused with a hint', () => {
  assert.throws(() => labAddressPlan('10.213.5.0/27', 30), /no room for 30 machines.*/);
});

test('missing tools are named with the Debian packages to install', () => {
  const e = (() => {
    try {
      checkLabPrerequisites({ uid: 0, path: '/nonexistent' });
    } catch (err) {
      return err;
    }
  })();
  assert.ok(e instanceof LabPrerequisiteError);
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /missing systemd-nspawn, debootstrap, ip, ssh-keygen/);
  assert.match(e.hint ?? '', /apt-get install -y systemd-container debootstrap iproute2 openssh-client/);
});

test('a non-root user is told that the lab needs root', () => {
  assert.throws(() => checkLabPrerequisites({ uid: 1000 }), (e: LabPrerequisiteError) => /must run as root/.test(e.message) && /sudo/.test(e.hint ?? ''));
});

test('pinning host keys replaces old lines for the same addresses and keeps everyone else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-lab-kh-'));
  try {
    const file = join(dir, 'known_hosts');
    await writeFile(file, 'other.example.com ssh-ed25519 AAAAother\n10.9.0.11 ssh-rsa AAAAstale\n');
    await pinKnownHosts(file, 'demo', [{ address: '10.9.0.11', publicKey: 'ssh-ed25519 AAAAnew root@demo-w0', name: 'demo-w0' }]);
    assert.equal(await readFile(file, 'utf8'), 'other.example.com ssh-ed25519 AAAAother\n10.9.0.11 ssh-ed25519 AAAAnew kubewright-lab:demo/demo-w0\n');
    await unpinKnownHosts(file, 'demo');
    assert.equal(await readFile(file, 'utf8'), 'other.example.com ssh-ed25519 AAAAother\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('containers are started the way REAL-INFRA §4 found to work without systemd as PID 1', () => {
  const args = nspawnArgs({ name: 'demo-w0', rootfs: '/r', bridge: 'kwlab0', networkFile: '/s/n', authorizedKeysFile: '/s/a', hostKeyFile: '/s/k', logFile: '/s/l' });
  for (const a of ['--boot', '--volatile=overlay', '--register=no', '--keep-unit', '--network-bridge=kwlab0', '--resolv-conf=off', '--machine=demo-w0']) assert.ok(args.includes(a), a);
  assert.ok(args.includes('--bind-ro=/s/k:/etc/ssh/ssh_host_ed25519_key'));
});

test('the image lives in the user cache dir unless KUBEWRIGHT_LAB_ROOTFS says otherwise', () => {
  assert.equal(defaultRootfsDir({ HOME: '/home/u' }), '/home/u/.cache/kubewright/rootfs-bookworm');
  assert.equal(defaultRootfsDir({ HOME: '/home/u', XDG_CACHE_HOME: '/c' }), '/c/kubewright/rootfs-bookworm');
  assert.equal(defaultRootfsDir({ KUBEWRIGHT_LAB_ROOTFS: '/r' }), '/r');
});

test('a second process waits for the one building the image instead of running debootstrap too', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-lab-img-'));
  try {
    const rootfs = join(dir, 'rootfs');
    // another (live) process holds the lock: this one
    await mkdir(`${rootfs}.lock`);
    await writeFile(join(`${rootfs}.lock`, 'pid'), String(process.pid));
    const waiting = ensureRootfsImage({ dir: rootfs, mirror: 'http://127.0.0.1:9/unreachable', lockTimeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1200));
    // the "other process" finishes: the image appears, its lock goes away
    await mkdir(join(rootfs, 'lib/systemd'), { recursive: true });
    await writeFile(join(rootfs, 'lib/systemd/systemd'), '');
    await writeFile(join(rootfs, '.kubewright-rootfs-v1'), '');
    await rm(`${rootfs}.lock`, { recursive: true });
    assert.equal(await waiting, rootfs);
    assert.ok(!existsSync(`${rootfs}.building`), 'no debootstrap was started');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a lock held past the timeout is reported with the process and the way out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-lab-img-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(`${rootfs}.lock`);
    await writeFile(join(`${rootfs}.lock`, 'pid'), String(process.pid));
    await assert.rejects(ensureRootfsImage({ dir: rootfs, lockTimeoutMs: 500 }), (e: Error & { hint?: string }) =>
      e.message.includes(`locked by process ${process.pid}`) && (e.hint ?? '').includes(`${rootfs}.lock`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

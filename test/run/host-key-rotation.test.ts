// Host key rotation after the first verified connection, on real OpenSSH servers standing in for
// droplets (test/e2e/digitalocean-droplet-hosts.ts: sshd on 127.x loopback addresses with the
// host key cloud-init would install from the user_data kubewright sent; systemctl there is a TEST
// DOUBLE), created through the DigitalOcean simulator (TEST DOUBLE, behind Prism). The attack:
// anyone who read the metadata (any process on any droplet of the same create call) holds the
// provisioning key and can pose as the node. After rotation that copy must be useless.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { HostKeyError } from '../../src/exec/ssh-errors.ts';
import { generateHostKey, hostKeyCloudConfig } from '../../src/providers/digitalocean/host-keys.ts';
import { DigitalOceanProvider } from '../../src/providers/digitalocean/provider.ts';
import { readRotations } from '../../src/providers/host-key-rotation.ts';
import { TerraformOutputProvider } from '../../src/providers/terraform/provider.ts';
import { connectHost, sshOptionsFor } from '../../src/run/connect.ts';
import { connectAndRotate, readRotationState } from '../../src/run/rotate-host-key.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { bootDropletHost, portFreeOn, stopDropletHost, type DropletHost } from '../e2e/digitalocean-droplet-hosts.ts';
import { startHarness, type Harness } from '../providers/do-harness.ts';

const run = promisify(execFile);
const block = `127.${64 + Math.floor(Math.random() * 128)}.${1 + Math.floor(Math.random() * 250)}`;
const publicIp = (n: number): string => `${block}.${40 + n}`;
const booted: DropletHost[] = [];
let h: Harness;
let port: number;
let clientPub: string;
let cluster: Cluster;
let hosts: Host[];

before(async () => {
  // the simulator's first droplet id is 3164444: droplet k gets the k-th address, on every listing
  h = await startHarness({ activateAfterMs: 50, addresses: (d) => ({ publicV4: publicIp(d.id - 3164444), privateV4: `10.135.9.${40 + d.id - 3164444}` }) }, true);
  port = await portFreeOn([publicIp(0), publicIp(1), publicIp(5)]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(h.dir, 'id_ed25519')]);
  clientPub = (await readFile(join(h.dir, 'id_ed25519.pub'), 'utf8')).trim();
  cluster = await h.cluster(2, { ssh: `ssh: { port: ${port}, privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }` });
  hosts = (await new DigitalOceanProvider({ cluster, client: h.client(), pollIntervalMs: 20 }).ensure()).hosts;
  for (const x of hosts) {
    const userData = h.sim.dropletsByName(x.name)[0]?.userData ?? '';
    booted.push(await bootDropletHost(join(h.dir, 'droplets'), { name: x.name, address: x.address!, port, userData, authorizedKeys: [clientPub] }));
  }
});
after(async () => {
  for (const b of booted) await stopDropletHost(b);
  await h?.stop();
});

const knownHosts = (): Promise<string> => readFile(join(h.dir, 'known_hosts'), 'utf8');
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

test('the first verified connection replaces each droplet\'s user_data host key with one generated on the host', async () => {
  const originals = booted.map((b) => b.hostPublicKey);
  for (const o of originals) assert.ok((await knownHosts()).includes(o), 'the provisioning key is pinned at first');
  // cloud-init still running on the new droplets: a TEST DOUBLE of `cloud-init status --wait` that
  // finishes 1 s later and logs when (ns), with /run/cloud-init as cloud-init leaves it this boot
  for (const b of booted) {
    await mkdir(join(b.root, 'run/cloud-init'), { recursive: true });
    await writeFile(join(b.dir, 'bin', 'cloud-init'), '#!/bin/sh\n# cloud-init TEST DOUBLE (test/run/host-key-rotation.test.ts)\n[ "$*" = "status --wait" ] || exit 2\nsleep 1; date +%s%N >/run/cloud-init/done; echo "status: done"\n', { mode: 0o755 });
  }
  const state = await readRotationState(cluster);
  for (const x of hosts) await (await connectAndRotate(cluster, x, await sshOptionsFor(cluster, false), state)).close();
  for (const b of booted) {
    const doneNs = BigInt((await readFile(join(b.root, 'run/cloud-init/done'), 'utf8')).trim());
    const keyNs = (await stat(join(b.root, 'etc/ssh/ssh_host_ed25519_key.pub'), { bigint: true })).mtimeNs;
    assert.ok(keyNs >= doneNs, `${b.name}: the host key was replaced only after cloud-init finished`);
  }

  const record = await readRotations(cluster);
  const pinned = await knownHosts();
  for (const [i, b] of booted.entries()) {
    const onHost = (await readFile(join(b.root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    assert.notEqual(onHost, originals[i], `${b.name}: a new key is in place`);
    assert.deepEqual(record[b.name], { original: originals[i], current: onHost, state: 'done' });
    assert.ok(pinned.includes(onHost), `${b.name}: the new key is pinned`);
    assert.ok(!pinned.includes(originals[i]!), `${b.name}: the user_data key is no longer pinned`);
    // cloud-init's copies of the user_data are gone from the host; the local private copy too
    assert.equal(await exists(join(b.root, 'var/lib/cloud/instance/user-data.txt')), false);
    assert.equal(await exists(join(b.root, 'var/lib/cloud/instances', b.name, 'user-data.txt')), false);
    assert.equal(await exists(join(h.dir, '.kubewright/demo/hostkeys', b.name)), false);
    assert.equal(await exists(join(h.dir, '.kubewright/demo/hostkeys', `${b.name}.pub`)), true);
    assert.ok(!(await readdir(join(b.root, 'etc/ssh'))).some((f) => f.includes('kw-new')), 'no temp key left');
  }
  // a fresh connection verifies against the new key
  await (await connectHost(hosts[0]!, await sshOptionsFor(cluster, false))).close();
});

test('a re-run rotates nothing and a re-provision never pins the user_data key again', async () => {
  const before = await knownHosts();
  const keysBefore = await Promise.all(booted.map((b) => readFile(join(b.root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')));
  await new DigitalOceanProvider({ cluster, client: h.client(), pollIntervalMs: 20 }).ensure();
  assert.equal(await knownHosts(), before, 'ensure re-pins the rotated keys, not the provisioning keys');
  const state = await readRotationState(cluster);
  for (const x of hosts) await (await connectAndRotate(cluster, x, await sshOptionsFor(cluster, false), state)).close();
  assert.deepEqual(await Promise.all(booted.map((b) => readFile(join(b.root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8'))), keysBefore);
  assert.equal(await knownHosts(), before);
});

test('an impostor holding the metadata copy of the key is refused, even with --accept-new-host-keys', async () => {
  const victim = booted[1]!;
  const userData = h.sim.dropletsByName(victim.name)[0]?.userData ?? '';
  await stopDropletHost(victim);
  // the impostor: any process that read the metadata service serves the user_data key at the node's address
  const rogue = await bootDropletHost(join(h.dir, 'rogue'), { name: victim.name, address: victim.address, port, userData, authorizedKeys: [clientPub] });
  booted.push(rogue);
  try {
    for (const accept of [false, true]) {
      await assert.rejects(connectHost(hosts[1]!, await sshOptionsFor(cluster, accept)), (e: unknown) => e instanceof HostKeyError, `accept-new-host-keys ${accept}`);
    }
  } finally {
    await stopDropletHost(rogue);
  }
});

test('the Terraform path: the tfstate\'s key is rotated away and never pinned again', async () => {
  const name = 'tf-worker-0.example.com';
  const key = generateHostKey(name);
  const address = publicIp(5);
  const outputFile = join(h.dir, 'hosts.json');
  await writeFile(outputFile, JSON.stringify({
    worker_names: { value: [name] }, worker_ipv4_addresses: { value: [address] }, worker_ipv4_private_addresses: { value: ['10.135.9.99'] },
    worker_ssh_host_keys: { value: [key.publicKey] },
  }));
  const specFile = join(h.dir, 'tf.yaml');
  const text = [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: tf }', 'kubernetes: { apiServer: "https://api.example.com:6443" }',
    'provider: { terraform: { outputFile: ./hosts.json } }', `ssh: { port: ${port}, privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts_tf }`, '',
  ].join('\n');
  await writeFile(specFile, text);
  const tf = parseCluster(text, specFile);
  const provider = new TerraformOutputProvider(tf);
  const [host] = (await provider.ensure()).hosts;
  const node = await bootDropletHost(join(h.dir, 'tf'), { name, address, port, userData: hostKeyCloudConfig([key]), authorizedKeys: [clientPub] });
  booted.push(node);
  const opts = await sshOptionsFor(tf, false);
  await (await connectAndRotate(tf, host!, opts, await readRotationState(tf))).close();
  await provider.ensure();
  const pinned = await readFile(join(h.dir, 'known_hosts_tf'), 'utf8');
  assert.ok(!pinned.includes(key.publicKey), 'the key in the tfstate is not pinned after a re-run');
  assert.equal((await readRotations(tf))[name]?.state, 'done');
  await (await connectHost(host!, opts)).close();
});

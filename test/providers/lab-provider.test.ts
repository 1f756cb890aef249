// The lab provider for real: 3 systemd-nspawn machines on a bridge of their own, ssh with pinned
// host keys, and `lab down` from another process leaving nothing behind. Needs root.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Host } from '../../src/spec/host.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { readLabState, type LabState } from '../../src/providers/lab/lab-state.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { freeSubnet } from '../support/free-subnet.ts';

const run = promisify(execFile);
const needsRoot = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;

/** A /24 in 10.213.100-199.0 that no interface on this machine uses yet. */
describe('lab provider with 3 machines', { skip: needsRoot }, () => {
  let dir = '';
  let spec = '';
  let provider: LabProvider;
  let hosts: Host[] = [];
  let state: LabState | undefined;
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwlt${tag}`;

  const ssh = (address: string, cmd: string, knownHosts = join(dir, 'known_hosts')) =>
    run('ssh', ['-F', '/dev/null', '-i', join(dir, 'id_ed25519'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${address}`, cmd], { timeout: 60_000 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-lab-'));
    spec = join(dir, 'lab.yaml');
    const subnet = await freeSubnet(213, 100, 100);
    await writeFile(spec, `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: lt${tag} }
kubernetes: { apiServer: "https://${subnet.replace('.0/24', '.1')}:6443" }
provider:
  lab: { hosts: 3, subnet: ${subnet}, bridge: ${bridge} }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
`);
    const cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    provider = new LabProvider(cluster);
    // two `up`s at once (as from two shells): the state lock makes the second wait and find the machines
    const [first, second] = await Promise.all([provider.boot(), new LabProvider(cluster).boot()]);
    hosts = first;
    assert.deepEqual(second, first);
    state = await readLabState(provider.stateDir);
  });

  after(async () => {
    await provider?.remove().catch(() => undefined);
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  test('two concurrent ensures boot each machine once', async () => {
    const { stdout } = await run('ps', ['-eo', 'args']);
    const nspawns = stdout.split('\n').filter((l) => l.startsWith('systemd-nspawn') && l.includes(`--machine=lt${tag}-`));
    assert.equal(nspawns.length, 3, nspawns.join('\n'));
  });

  test('every machine boots systemd and answers ssh with its pinned host key', async () => {
    assert.deepEqual(hosts.map((h) => h.name), [`lt${tag}-w0`, `lt${tag}-w1`, `lt${tag}-w2`]);
    const base = hosts[0]?.address?.replace(/\.11$/, '') ?? '';
    assert.deepEqual(hosts.map((h) => h.address), [`${base}.11`, `${base}.12`, `${base}.13`]);
    for (const h of hosts) {
      const { stdout } = await ssh(h.address ?? '', 'hostname; systemctl is-system-running --wait; cat /proc/1/comm');
      const [name, status, pid1] = stdout.trim().split('\n');
      assert.equal(name, h.name);
      assert.match(status ?? '', /^(running|degraded)$/);
      assert.equal(pid1, 'systemd');
    }
  });

  test('kubewright\'s ssh executor reaches every machine with the spec\'s key and known_hosts', async () => {
    const privateKey = await readFile(join(dir, 'id_ed25519'));
    for (const h of hosts) {
      const x = await SshExecutor.connect({ name: h.name, address: h.address ?? '', port: h.port, user: h.user }, { privateKey, knownHostsPath: join(dir, 'known_hosts') });
      try {
        await x.put({ path: '/etc/kubewright-probe', mode: 0o600, contents: h.name });
        const r = await x.exec('cat /etc/kubewright-probe; stat -c %a /etc/kubewright-probe');
        assert.equal(r.stdout, `${h.name}600\n`);
      } finally {
        await x.close();
      }
    }
  });

  test('ssh refuses a lab machine whose key is not in known_hosts', async () => {
    const empty = join(dir, 'empty_known_hosts');
    await writeFile(empty, '');
    await assert.rejects(ssh(hosts[0]?.address ?? '', 'true', empty), /Host key verification failed/);
    const pinned = (await readFile(join(dir, 'known_hosts'), 'utf8')).trim().split('\n').map((l) => l.split(' ')[2]);
    assert.equal(new Set(pinned).size, 3, 'each machine has its own host key');
  });

  test('machines reach each other over the bridge and have no route off it', async () => {
    const [a, b] = hosts;
    const { stdout } = await ssh(a?.address ?? '', `bash -c 'exec 3<>/dev/tcp/${b?.address}/22 && head -c 4 <&3'`);
    assert.equal(stdout, 'SSH-');
    await assert.rejects(ssh(a?.address ?? '', 'ip route get 192.0.2.1'), /unreachable/);
  });

  test('a second ensure leaves running machines and their files alone', async () => {
    await ssh(hosts[1]?.address ?? '', 'echo kept >/root/marker');
    await provider.boot();
    const again = await readLabState(provider.stateDir);
    assert.deepEqual(again?.machines.map((m) => m.pid), state?.machines.map((m) => m.pid));
    assert.equal((await ssh(hosts[1]?.address ?? '', 'cat /root/marker')).stdout, 'kept\n');
  });

  test('ensure boots a machine again after its container stopped', async () => {
    const before = (await readLabState(provider.stateDir))?.machines.find((m) => m.name === hosts[2]?.name);
    assert.ok(before);
    process.kill(before.pid, 'SIGTERM');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(before.pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await provider.recorded())[2]?.address, undefined, 'a stopped machine has no address');
    const again = await provider.boot();
    const after = (await readLabState(provider.stateDir))?.machines.find((m) => m.name === hosts[2]?.name);
    assert.notEqual(after?.pid, before.pid);
    assert.equal(again[2]?.address, hosts[2]?.address);
    assert.equal((await ssh(hosts[2]?.address ?? '', 'hostname')).stdout.trim(), hosts[2]?.name);
    state = await readLabState(provider.stateDir);
  });

  test('lowering provider.lab.hosts keeps the last machine running as an extra (retired) until release stops it and forgets it', async () => {
    const text = await readFile(spec, 'utf8');
    await writeFile(spec, text.replace('hosts: 3,', 'hosts: 2,'));
    try {
      const fewer = new LabProvider(parseCluster(await readFile(spec, 'utf8'), spec));
      const last = hosts[2]!;
      const ensured = await fewer.ensure();
      assert.deepEqual(ensured.hosts.map((h) => h.name), [hosts[0]?.name, hosts[1]?.name]);
      assert.deepEqual(ensured.report.extras, [last.name]);
      const retired = await fewer.retired();
      assert.deepEqual(retired.map((h) => [h.name, h.address, h.user, h.port]), [[last.name, last.address, 'root', 22]]);
      assert.equal((await ssh(last.address ?? '', 'hostname')).stdout.trim(), last.name, 'still running and still pinned: up --prune can drain and reset it');
      await assert.rejects(fewer.release([hosts[0]!]), /refusing to remove .*-w0: still planned by provider\.lab\.hosts/);

      const pid = (await readLabState(fewer.stateDir))?.machines.find((m) => m.name === last.name)?.pid;
      assert.ok(pid);
      assert.deepEqual(await fewer.release(retired), [last.name]);
      assert.throws(() => process.kill(pid, 0), 'the machine is stopped');
      assert.deepEqual((await readLabState(fewer.stateDir))?.machines.map((m) => m.name), [hosts[0]?.name, hosts[1]?.name]);
      assert.ok(!existsSync(join(fewer.stateDir, last.name)), 'its files are removed');
      const pinned = await readFile(join(dir, 'known_hosts'), 'utf8');
      assert.doesNotMatch(pinned, new RegExp(`/${last.name}$`, 'm'), 'its host key is unpinned');
      assert.equal(pinned.trim().split('\n').length, 2);
      assert.deepEqual(await fewer.retired(), []);
      assert.equal((await ssh(hosts[0]?.address ?? '', 'hostname')).stdout.trim(), hosts[0]?.name, 'the others run on');
    } finally {
      await writeFile(spec, text);
    }
  });

  test('lab down from another process leaves no container, bridge, address, cgroup or state', async () => {
    assert.ok(state);
    await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lab', 'down', '-f', spec], { cwd: join(import.meta.dirname, '../..'), timeout: 90_000 });
    for (const m of state.machines) assert.throws(() => process.kill(m.pid, 0), `nspawn ${m.pid} (${m.name}) still runs`);
    const links = (await run('ip', ['-o', 'link'])).stdout;
    assert.ok(!links.includes(bridge), `bridge ${bridge} left behind`);
    for (const h of hosts) assert.ok(!links.includes(`vb-${h.name}`), `veth of ${h.name} left behind`);
    const subnet = state.subnet.replace('.0/24', '.');
    assert.ok(!(await run('ip', ['-o', '-4', 'addr'])).stdout.includes(` ${subnet}`), 'an address of the lab subnet is left');
    for (const c of state.cgroups) assert.ok(!existsSync(c), `cgroup ${c} left behind`);
    assert.ok(!existsSync(provider.stateDir), 'state dir left behind');
    assert.ok(!existsSync(join(dir, '.kubewright')), '.kubewright left behind');
    assert.equal(await readFile(join(dir, 'known_hosts'), 'utf8'), '', 'pinned lines left in known_hosts');
    assert.deepEqual((await provider.recorded()).map((h) => h.address), [undefined, undefined, undefined]);
  });
});

// reset of an etcd member keeps etcd's data (/var/lib/etcd, not in the manifest: etcd writes it)
// unless asked: a real OpenSSH host on loopback with a fake root (its systemctl is the TEST DOUBLE
// of test/support/sshd-hosts.ts; the files and the directory removed are real).
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { MANIFEST_PATH, serializeManifest } from '../../src/phases/host-manifest.ts';
import { applyReset, planReset } from '../../src/phases/reset-host.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let x: SshExecutor;

before(async () => {
  lab = await startSshdHosts(1, 'ed');
  const h = lab.hosts[0]!;
  x = await SshExecutor.connect({ name: h.name, address: h.address, port: h.port, user: 'root' }, { privateKey: await readFile(lab.privateKeyPath), knownHostsPath: lab.knownHostsPath });
});

after(async () => {
  await x?.close();
  await lab?.stop();
});

/** What applying an etcd member left: its unit and manifest, a running etcd, and etcd's own data. */
async function applied(): Promise<void> {
  const root = lab.hosts[0]!.root;
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
  await mkdir(join(root, 'var/lib/kubewright'), { recursive: true });
  await mkdir(join(root, 'var/lib/etcd/member/snap'), { recursive: true });
  await writeFile(join(root, 'var/lib/etcd/member/snap/db'), 'the cluster\'s keys');
  await writeFile(join(root, 'etc/systemd/system/etcd.service'), '[Service]\nExecStart=/usr/local/bin/etcd\n');
  await writeFile(join(root, MANIFEST_PATH), serializeManifest({ version: 1, files: [{ path: '/etc/systemd/system/etcd.service', kind: 'file' }], units: ['etcd.service'], dirs: [] }));
  await writeFile(join(lab.hosts[0]!.systemdDir, 'etcd.service.inv'), 'abc\n');
  await writeFile(join(lab.hosts[0]!.systemdDir, 'etcd.service.enabled'), 'enabled\n');
}

const dataThere = (): Promise<boolean> => stat(join(lab.hosts[0]!.root, 'var/lib/etcd/member/snap/db')).then(() => true, () => false);

test('by default the reset stops etcd and removes its unit but keeps /var/lib/etcd, and says so', async () => {
  await applied();
  const plan = await planReset(x);
  assert.equal(plan.keptEtcdData, '/var/lib/etcd');
  assert.ok(!plan.steps.some((s) => s.summary.includes('/var/lib/etcd')));
  await applyReset(x, plan);
  assert.equal(await dataThere(), true);
  assert.equal(await stat(join(lab.hosts[0]!.root, 'etc/systemd/system/etcd.service')).then(() => true, () => false), false);
});

test('with etcdData (reset --delete-etcd-data) the data goes too, after etcd was stopped', async () => {
  await applied();
  const plan = await planReset(x, { etcdData: true });
  assert.equal(plan.keptEtcdData, undefined);
  const summaries = plan.steps.map((s) => s.summary);
  const stop = summaries.findIndex((s) => s.startsWith('stop and disable etcd.service'));
  const data = summaries.indexOf("remove /var/lib/etcd (etcd's data, --delete-etcd-data)");
  assert.ok(stop >= 0 && data > stop, summaries.join('\n'));
  await applyReset(x, plan);
  assert.equal(await dataThere(), false);
});

// Preflight on real machines: 2 systemd-nspawn machines from the lab provider, each set up to fail
// checks a container can really fail. w0: a process (perl, started with systemd-run) holds the
// kubelet's port 10250, and net.ipv4.ip_forward is 0 in its network namespace. w1: the binaries'
// directory is a 8 MiB tmpfs. doctor, plan and apply judge them from the real gather command;
// apply refuses both hosts before writing anything. Binaries are the stand-ins (TEST DOUBLES from
// test/support/artifact-mirror.ts); nothing here depends on them beyond their size. Needs root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import type { Host } from '../../src/spec/host.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { isolateTestLab, onLabHost } from '../support/lab-shell.ts';
import { labSpecYaml, serveLabBinaries } from '../support/lab-spec.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;

describe('preflight on 2 systemd-nspawn machines set up to fail', { skip }, () => {
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwd${tag}`;
  let dir = '';
  let spec = '';
  let provider: LabProvider;
  let hosts: Host[] = [];
  let teardown: ReturnType<typeof isolateTestLab> | undefined;
  const onHost = (h: Host, cmd: string): Promise<string> => onLabHost(dir, h, cmd);
  /** what apply would have left: its manifest, a unit, a binary, a temp file */
  const written = (h: Host): Promise<string> =>
    onHost(h, 'ls -d /var/lib/kubewright/manifest.json /etc/systemd/system/kubelet.service /usr/local/bin/kubelet /etc/kubernetes 2>/dev/null; find /etc /usr/local /var/lib -name ".*kubewright*" 2>/dev/null; true');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-doctor-nspawn-'));
    spec = join(dir, 'cluster.yaml');
    teardown = isolateTestLab(dir);
    const subnet = await freeSubnet(216, 100, 100);
    const text = (pins: Record<string, string>): string => labSpecYaml({ name: `kwd${tag}`, hosts: 2, subnet, bridge, pins });
    await writeFile(spec, text({}));
    const cluster = parseCluster(text({}), spec);
    provider = new LabProvider(cluster);
    hosts = await provider.boot();
    await writeFile(spec, text(await serveLabBinaries(dir, cluster, hosts)));
    const [w0, w1] = hosts;
    await onHost(w0!, [
      'sysctl -qw net.ipv4.ip_forward=0',
      `systemd-run --unit kw-port-holder perl -MIO::Socket::INET -e 'our @held = (IO::Socket::INET->new(LocalPort => 10250, Listen => 5, ReuseAddr => 1) or die); sleep 100000'`,
      // listening before doctor looks
      'for i in $(seq 50); do ss -Htln "sport = :10250" | grep -q . && exit 0; sleep 0.1; done; exit 1',
    ].join(' && '));
    await onHost(w1!, 'mount -t tmpfs -o size=8m kw-small /usr/local');
  });

  after(async () => {
    await teardown?.(provider, bridge);
  });

  test('doctor names host, check and fix for each failure, and exits 1 for the blocked host', async () => {
    const [w0, w1] = hosts;
    const r = await runCli('doctor', '-f', spec);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${w0!.name}: BLOCKING port-10250 +port 10250 \\(the kubelet API\\) is held by perl \\(pid \\d+\\) — fix: stop what listens there`, 'm'));
    assert.match(r.stdout, new RegExp(`^${w0!.name}: warning +ip-forward +net\\.ipv4\\.ip_forward is 0 \\(apply turns it on through /etc/sysctl\\.d/90-kubewright\\.conf\\)`, 'm'));
    assert.match(r.stdout, new RegExp(`^${w1!.name}: warning +disk +\\d+ MiB free in /usr/local, \\d+ binaries to install \\(estimated`, 'm'));
    assert.match(r.stdout, new RegExp(`^${w1!.name}: ok +port-10250 +port 10250 free$`, 'm'));
    for (const h of hosts) for (const c of ['arch', 'os', 'systemd', 'swap']) assert.match(r.stdout, new RegExp(`^${h.name}: ok +${c} `, 'm'));
    assert.match(r.stdout, /^doctor: 2 host\(s\): 1 ready, 1 blocked; \d+ warning\(s\)$/m);
    assert.match(r.stderr, new RegExp(`1 of 2 host\\(s\\) cannot be applied: ${w0!.name}`));

    const one = await runCli('doctor', '-f', spec, '--host', w1!.name, '-o', 'json');
    assert.equal(one.code, 0, one.stderr);
    const doc = JSON.parse(one.stdout) as { hosts: { host: string; findings: { check: string; severity: string }[] }[] };
    assert.deepEqual(doc.hosts.map((h) => h.host), [w1!.name]);
    assert.equal(doc.hosts[0]!.findings.find((f) => f.check === 'disk')?.severity, 'warning');
    assert.equal((await runCli('doctor', '-f', spec, '--host', 'nope')).code, 2);
  });

  test('plan fails the blocked host and lists the other\'s warnings', async () => {
    const [w0, w1] = hosts;
    const r = await runCli('plan', '-f', spec);
    assert.match(r.stdout, new RegExp(`^${w0!.name}: FAILED: preflight failed: port-10250: port 10250 \\(the kubelet API\\) is held by perl`, 'm'));
    assert.match(r.stdout, new RegExp(`^${w1!.name}: warning: disk: `, 'm'));
    assert.match(r.stdout, new RegExp(`^${w1!.name}: \\d+ change\\(s\\)`, 'm'));
  });

  test('apply refuses both hosts before writing anything: w0 for the port, w1 once the downloads are measured', async () => {
    const [w0, w1] = hosts;
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s');
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^${w0!.name}: preflight failed: port-10250: .* — nothing was written to this host`, 'm'));
    assert.match(r.stderr, new RegExp(`^${w1!.name}: preflight failed: disk: \\d+ MiB free in /usr/local, \\d+ binaries to install \\(\\d+ MiB\\) \\+ 256 MiB headroom need \\d+ MiB — fix: free space`, 'm'));
    for (const h of hosts) assert.equal(await written(h), '', `${h.name}: nothing written`);
  });

  test('once the port is free, the host passes doctor', async () => {
    const [w0] = hosts;
    await onHost(w0!, 'systemctl stop kw-port-holder');
    const r = await runCli('doctor', '-f', spec, '--host', w0!.name);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${w0!.name}: ok +port-10250 +port 10250 free$`, 'm'));
  });
});

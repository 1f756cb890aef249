// End to end on the lab provider (issue 7): 3 systemd-nspawn machines on a bridge this test's
// spec names, real systemd and sshd inside, a real etcd 3.4 with TLS client-certificate auth on
// the bridge address (serving certificate from the etcd CA `kubewright pki init` made), real
// containerd/runc/CNI plugins from Debian served from a local artifacts.mirror, the Kubernetes API
// TEST DOUBLE (test/support/kube-api-double.ts) on the bridge address, and per node a STAND-IN
// KUBELET (test double, served as the mirror's kubelet) and a STAND-IN FLANNELD (test double that
// writes its subnet lease to etcd as flannel does). The journey is `kubewright up` when the CLI
// has it, else the same steps through `lab up`, `pki issue`, `etcd network`, `apply`, the DNS
// addon and `verify`. Then: a second run changes nothing, a stopped kubelet fails verify (exit 3),
// and `down` leaves no machine, bridge, veth or address.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { buildProgram } from '../../src/cli/main.ts';
import { readClusterCa, readEtcdCa } from '../../src/pki/cluster-ca.ts';
import { barePaths, resolvePkiDir } from '../../src/pki/pki-files.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { binariesFor } from '../../src/render/release-binaries.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { applyDnsAddon, type AppliedObject } from '../../src/addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../../src/verify/kube-client.ts';
import { dnsDeploymentName } from '../../src/verify/verify-cluster.ts';
import { readAdminCredentials } from '../../src/verify/admin-credentials.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { KubeApiDouble } from '../support/kube-api-double.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { startBridgeEtcd, type BridgeEtcd } from './bridge-etcd.ts';
import { buildLabMirror } from './lab-mirror.ts';
import { freePort } from '../support/free-port.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { labE2eMissingPrerequisite } from '../support/lab-shell.ts';
import { TEST_PREFLIGHT } from '../support/lab-spec.ts';

const run = promisify(execFile);
const kubernetesVersion = '1.36.2';
const units = ['etcd-lookup', 'flanneld', 'containerd', 'kubelet', 'kube-proxy'];


/** A /24 no interface on this machine uses yet (10.214.x: apart from the lab tests' 10.213.x). */
/** A port free on every address a moment ago (listen on 0, close). */
// KUBEWRIGHT_E2E_STEPS=1 runs the steps one by one even when `up` exists (to tell an `up` bug from a step's)
const hasUpCommand = process.env['KUBEWRIGHT_E2E_STEPS'] !== '1' && (await buildProgram({ out: () => undefined, err: () => undefined })).commands.some((c) => c.name() === 'up');

describe('kubewright up on 3 lab machines, end to end', { skip: labE2eMissingPrerequisite() }, () => {
  const tag = randomBytes(2).toString('hex');
  const name = `e2e${tag}`;
  const bridge = `kwe2e${tag}`;
  let dir = '';
  let spec = '';
  let bridgeIp = '';
  let subnetPrefix = '';
  let cluster: Cluster;
  let api: KubeApiDouble | undefined;
  let etcd: BridgeEtcd | undefined;
  let hosts: { name: string; address: string }[] = [];
  const savedCacheDir = process.env['KUBEWRIGHT_CACHE_DIR'];

  const ssh = (address: string, cmd: string) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('ssh', ['-F', '/dev/null', '-i', join(dir, 'id_ed25519'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${address}`, cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh ${address} ${cmd}: exit ${code}: ${err}`))));
    });

  const specText = (checksums: Record<string, string>, etcdPort: number, apiPort: number): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ${name} }
kubernetes: { version: "1.36", apiServer: "https://${bridgeIp}:${apiPort}" }
provider:
  lab: { hosts: 3, subnet: ${subnetPrefix}.0/24, bridge: ${bridge} }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
etcd: { discovery: { endpoints: ["https://${bridgeIp}:${etcdPort}"] } }
# Debian bookworm's containerd, runc and CNI plugins (what this machine and the lab image run)
versions: { containerd: "1.6.20", runc: "1.1.5", cniPlugins: "1.1.1" }
artifacts:
  mirror: ./mirror
  checksums: ${JSON.stringify(checksums)}
${TEST_PREFLIGHT}
`;

  /** Unit -> InvocationID per node: a restart changes it. */
  const invocationIds = async (): Promise<Record<string, string>> => {
    const all: Record<string, string> = {};
    for (const h of hosts) {
      const out = await ssh(h.address, `for u in ${units.join(' ')}; do echo "$u $(systemctl show -p InvocationID --value $u)"; done`);
      for (const line of out.trim().split('\n')) {
        const [unit, id] = line.split(' ');
        all[`${h.name}/${unit}`] = id ?? '';
      }
    }
    return all;
  };

  /** The journey: `up`, or its steps one by one until `up` is in the CLI. */
  const journey = async (): Promise<{ ok: boolean; log: string; unchangedHosts: number; dns: AppliedObject[]; networkUnchanged: boolean }> => {
    if (hasUpCommand) {
      const r = await runCli('up', '-f', spec, '--wait', '60s', '--output', 'json');
      const log = `${r.stderr}\n${r.stdout}`;
      assert.equal(r.code, 0, log);
      const result = JSON.parse(r.stdout) as { ok: boolean; hosts: { status: string }[]; dns?: AppliedObject[]; etcd?: { action: string }; verify?: { ok: boolean; flannel?: { checked: boolean; ok: boolean } } };
      assert.equal(result.verify?.ok, true, log);
      // the leases the stand-in flanneld wrote were part of up's verify
      assert.deepEqual(result.verify.flannel && { checked: result.verify.flannel.checked, ok: result.verify.flannel.ok }, { checked: true, ok: true }, log);
      // progress: one [k/9] line per step, in order (on stderr, since stdout carries the JSON)
      const seen = ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify'].map((s, i) => r.stderr.indexOf(`[${i + 1}/9] ${s}:`));
      assert.ok(seen.every((at, i) => at >= 0 && (i === 0 || at > (seen[i - 1] ?? 0))), `step lines in order\n${r.stderr}`);
      return { ok: result.ok, log, unchangedHosts: result.hosts.filter((h) => h.status === 'unchanged').length, dns: result.dns ?? [], networkUnchanged: result.etcd?.action === 'unchanged' };
    }
    const steps: [string, CliResult][] = [];
    const step = async (...args: string[]): Promise<CliResult> => {
      const r = await runCli(...args);
      steps.push([args.slice(0, 2).join(' '), r]);
      assert.equal(r.code, 0, steps.map(([s, x]) => `$ kubewright ${s} → ${x.code}\n${x.stdout}\n${x.stderr}`).join('\n'));
      return r;
    };
    await step('lab', 'up', '-f', spec);
    await step('pki', 'issue', '-f', spec);
    const network = await step('etcd', 'network', '-f', spec);
    const apply = await step('apply', '-f', spec);
    const creds = await readAdminCredentials(cluster);
    const labHosts = await new LabProvider(cluster).recorded();
    const dns = await applyDnsAddon(adminKubeConfig(cluster.kubernetes.apiServer, creds.caPem, creds.admin), renderCluster({ cluster, hosts: labHosts }).cluster);
    const verify = await step('verify', '-f', spec, '--wait', '60s');
    const log = steps.map(([s, x]) => `$ kubewright ${s}\n${x.stdout}\n${x.stderr}`).join('\n');
    const unchanged = /Apply: \d+ host\(s\): \d+ to change, (\d+) unchanged/.exec(apply.stdout);
    return { ok: verify.code === 0, log, unchangedHosts: Number(unchanged?.[1] ?? -1), dns, networkUnchanged: / unchanged /.test(network.stdout) };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-e2e-lab-'));
    spec = join(dir, 'cluster.yaml');
    process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'artifact-cache');
    const subnet = await freeSubnet(214, 10, 240);
    subnetPrefix = subnet.replace(/\.0\/24$/, '');
    bridgeIp = `${subnetPrefix}.1`;
    const [etcdPort, apiPort] = [await freePort('0.0.0.0'), await freePort('0.0.0.0')];

    // the mirror first: its pins (artifacts without a published checksum) go into the spec
    await writeFile(spec, specText({}, etcdPort, apiPort));
    const draft = parseCluster(await readFile(spec, 'utf8'), spec);
    const mirror = await buildLabMirror(join(dir, 'mirror'), binariesFor(draft, { kubernetesVersion }), { kubernetesVersion, heartbeatSeconds: 1 });
    await writeFile(spec, specText(mirror.pins, etcdPort, apiPort));
    cluster = parseCluster(await readFile(spec, 'utf8'), spec);

    // 1. the machines and the bridge, so the API double and etcd can listen on the bridge address
    const lab = await runCli('lab', 'up', '-f', spec);
    assert.equal(lab.code, 0, lab.stdout + lab.stderr);
    hosts = (await new LabProvider(cluster).recorded()).map((h) => ({ name: h.name, address: h.address ?? '' }));
    assert.equal(hosts.length, 3);

    // 2. the cluster CA (and the certificates) so etcd and the API double serve with it
    for (const args of [['pki', 'init', '-f', spec], ['pki', 'issue', '-f', spec]]) {
      const r = await runCli(...args);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const pkiDir = resolvePkiDir(cluster);
    const ca = await readClusterCa(pkiDir);
    assert.ok(ca, 'pki init made a CA');
    const caPem = await readFile(join(pkiDir, 'ca.pem'), 'utf8');
    // etcd has its own CA (a new PKI gets one): it signs etcd's serving certificate and flannel's client
    const etcdCa = await readEtcdCa(pkiDir);
    assert.ok(etcdCa, 'pki init made an etcd CA');
    const client = barePaths(pkiDir, 'etcd-client');
    etcd = await startBridgeEtcd(bridgeIp, etcdPort, etcdCa, etcdCa.certPem, { cert: await readFile(client.cert, 'utf8'), key: await readFile(client.key, 'utf8') });
    const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: [bridgeIp, '127.0.0.1'] });
    api = new KubeApiDouble({ caPem, certPem: serving.certPem, keyPem: serving.keyPem, host: bridgeIp, port: apiPort, staleAfterMs: heartbeatStaleAfterMs, gitVersion: `v${kubernetesVersion}`, authorization: 'node' });
    await api.start();
  });

  after(async () => {
    await api?.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
    if (spec && existsSync(spec)) {
      const r = await runCli('lab', 'down', '-f', spec).catch(() => undefined);
      if (r?.code !== 0 && cluster) await new LabProvider(cluster).remove().catch(() => undefined);
    }
    if (savedCacheDir === undefined) delete process.env['KUBEWRIGHT_CACHE_DIR'];
    else process.env['KUBEWRIGHT_CACHE_DIR'] = savedCacheDir;
    await rm(dir, { recursive: true, force: true });
  });

  let firstIds: Record<string, string> = {};

  test(`${hasUpCommand ? 'up brings' : 'the up steps bring'} every node Ready, registered from inside its machine as system:node:<name>`, async () => {
    const r = await journey();
    assert.ok(r.ok, r.log);
    assert.ok(api);
    for (const h of hosts) {
      // the stand-in kubelet used the rendered kubeconfig and the node's certificate over the bridge
      assert.deepEqual(api.nodeWriters(h.name), [`system:node:${h.name}`], `${h.name} writers\n${r.log}`);
      const node = api.node(h.name);
      const status = node?.['status'] as { nodeInfo?: { kubeletVersion?: string }; addresses?: { address: string }[] } | undefined;
      assert.equal(status?.nodeInfo?.kubeletVersion, `v${kubernetesVersion}`);
      assert.ok(status?.addresses?.some((a) => a.address === h.address), `${h.name} reports its lab address`);
    }
    // the DNS addon reached the API as the admin; its Deployment and Service exist
    assert.ok(r.dns.length > 0 && r.dns.some((o) => o.kind === 'Deployment'), JSON.stringify(r.dns));
    assert.ok(api.calls.some((c) => c.path.includes('/deployments/') && c.groups.includes('system:masters') && c.status < 300));
    const dnsService = api.objects.get('v1/services/kube-system/kube-dns') as { spec?: { clusterIP?: string } } | undefined;
    assert.equal(dnsService?.spec?.clusterIP, cluster.kubernetes.clusterDNS);
  });

  test('every node runs Debian\'s containerd (active) and holds a flannel lease in etcd', async () => {
    for (const h of hosts) {
      assert.equal((await ssh(h.address, 'systemctl is-active containerd kubelet flanneld kube-proxy')).trim().split('\n').join(' '), 'active active active active');
      assert.match(await ssh(h.address, '/usr/local/bin/containerd --version'), /containerd .*1\.6\.20/);
      assert.match(await ssh(h.address, '/usr/local/bin/ctr --address /run/containerd/containerd.sock version'), /Server:[\s\S]*Version:\s+1\.6\.20/);
      assert.match(await ssh(h.address, 'cat /run/flannel/subnet.env'), /^FLANNEL_SUBNET=10\.200\.\d+\.1\/24$/m);
    }
    const leases = await runCli('etcd', 'leases', '-f', spec, '--output', 'json');
    assert.equal(leases.code, 0, leases.stdout + leases.stderr);
    const m = JSON.parse(leases.stdout) as { assigned: { node: string; publicIp: string }[]; nodesWithoutLease: string[] };
    assert.deepEqual(m.nodesWithoutLease, []);
    assert.deepEqual(m.assigned.map((a) => a.node).sort(), hosts.map((h) => h.name).sort());
    firstIds = await invocationIds();
  });

  test(`a second ${hasUpCommand ? 'up' : 'run of the up steps'} changes nothing and restarts no unit`, async () => {
    assert.ok(Object.keys(firstIds).length === hosts.length * units.length, 'the previous test recorded the units');
    const r = await journey();
    assert.ok(r.ok, r.log);
    assert.equal(r.unchangedHosts, hosts.length, r.log);
    assert.ok(r.networkUnchanged, r.log);
    assert.deepEqual(r.dns.filter((o) => o.action !== 'unchanged'), [], r.log);
    assert.deepEqual(await invocationIds(), firstIds);
  });

  test('up refuses a kubelet newer than the API server (version skew): exit 2 at the apply step, no unit restarted', { skip: !hasUpCommand }, async () => {
    api!.reportVersion('v1.33.4');
    try {
      const r = await runCli('up', '-f', spec, '--skip-verify');
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /kubernetes\.version: kubelet 1\.36\.2 cannot join the API server at https:\/\/[\d.:]+, which runs v1\.33\.4/);
      assert.match(`${r.stdout}\n${r.stderr}`, /apply/);
      assert.deepEqual(await invocationIds(), firstIds, 'no unit restarted');
    } finally {
      api!.reportVersion(`v${kubernetesVersion}`);
    }
  });

  test('up --events ndjson: every stdout line is one event, the steps in order, every host\'s apply phases inside the apply step', { skip: !hasUpCommand }, async () => {
    const r = await runCli('up', '-f', spec, '--wait', '60s', '--events', 'ndjson');
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const events = r.stdout.split('\n').map((line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(e).filter((k) => !['step', 'host', 'phase', 'status', 'message', 'ms'].includes(k)), [], line);
      assert.ok(typeof e['step'] === 'string' && typeof e['phase'] === 'string' && typeof e['message'] === 'string' && typeof e['ms'] === 'number', line);
      assert.ok(['running', 'ok', 'skipped', 'failed'].includes(e['status'] as string), line);
      return e as { step: string; host?: string; phase: string; status: string; ms: number };
    });
    // the steps' own events: each step runs and ends ok (remove: skipped, no host left the spec), in up's order
    const own = events.filter((e) => e.host === undefined);
    const ends = own.filter((e) => e.status !== 'running').map((e) => `${e.step} ${e.status}`);
    assert.deepEqual(ends, ['provision ok', 'pki ok', 'etcd-cluster skipped', 'control-plane skipped', 'etcd ok', 'apply ok', 'dns ok', 'remove skipped', 'verify ok'], r.stdout);
    assert.ok(own.every((e) => e.phase === e.step), 'a step\'s own event names the step as its phase');
    const steps = events.map((e) => e.step);
    assert.deepEqual(steps.filter((s, i) => s !== steps[i - 1]), ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify'], 'events never go back to an earlier step');
    // inside apply, each host connects, gathers, plans and is done with nothing to change
    for (const h of hosts) {
      const mine = events.filter((e) => e.host === h.name);
      assert.ok(mine.every((e) => e.step === 'apply'), `${h.name}: host events belong to the apply step`);
      assert.deepEqual(mine.map((e) => e.phase).filter((p) => !p.startsWith('plan ')), ['connect', 'gather facts', 'done'], `${h.name}\n${r.stdout}`);
      assert.equal(mine.at(-1)?.status, 'ok');
    }
    assert.ok(events.every((e, i) => i === 0 || e.ms >= (events[i - 1]?.ms ?? 0)), 'ms never goes back');
    // the report goes to stderr, so that stdout stays parseable
    assert.match(r.stderr, /^Up: nothing changed\.$/m);
  });

  test(`with the DNS Deployment gone verify exits 3 naming it, and ${hasUpCommand ? 'up' : 'the up steps'} put it back`, async () => {
    assert.ok(api);
    assert.ok(api.deleteObject('apps/v1', 'deployments', 'kube-system', dnsDeploymentName(cluster)), 'the DNS Deployment was there');
    const broken = await runCli('verify', '-f', spec);
    assert.equal(broken.code, 3, broken.stdout + broken.stderr);
    assert.match(broken.stdout + broken.stderr, new RegExp(`deployment kube-system/${dnsDeploymentName(cluster)} is missing`));
    const before = await invocationIds();
    const r = await journey();
    assert.ok(r.ok, r.log);
    assert.deepEqual(r.dns.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name} ${o.action}`), [`Deployment/${dnsDeploymentName(cluster)} created`], r.log);
    assert.equal(r.unchangedHosts, hosts.length, r.log);
    assert.deepEqual(await invocationIds(), before);
  });

  test('stopping one node\'s kubelet makes verify exit 3 naming that node', async () => {
    const victim = hosts[1];
    assert.ok(victim);
    await ssh(victim.address, 'systemctl stop kubelet');
    // the API double calls a node NotReady once its heartbeat is older than heartbeatStaleAfterMs;
    // wait for the victim itself (on a busy machine verify may first fail for another reason)
    const victimNotReady = new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm');
    const deadline = Date.now() + heartbeatStaleAfterMs + 30_000;
    let r = await runCli('verify', '-f', spec);
    while (!(r.code === 3 && victimNotReady.test(r.stdout)) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      r = await runCli('verify', '-f', spec);
    }
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm'));
    for (const h of hosts.filter((x) => x !== victim)) assert.match(r.stdout, new RegExp(`^${h.name}\\s+Ready\\s`, 'm'));
  });

  test('a node holding another node\'s kubelet certificate is refused by the API and verify exits 3 naming it', async () => {
    const [owner, , victim] = hosts;
    assert.ok(owner && victim && api);
    // the victim's kubelet now authenticates as system:node:<owner>, which may not write the victim's Node
    const pem = async (file: string) => ssh(owner.address, `cat ${file}`);
    const [cert, key] = [await pem('/etc/kubernetes/pki/kubelet.pem'), await pem('/etc/kubernetes/pki/kubelet-key.pem')];
    assert.match(cert, /BEGIN CERTIFICATE/);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    await ssh(victim.address, `echo ${b64(cert)} | base64 -d >/etc/kubernetes/pki/kubelet.pem && echo ${b64(key)} | base64 -d >/etc/kubernetes/pki/kubelet-key.pem && systemctl restart kubelet`);
    const deadline = Date.now() + heartbeatStaleAfterMs + 30_000;
    let r = await runCli('verify', '-f', spec);
    while (!(r.code === 3 && new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm').test(r.stdout)) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      r = await runCli('verify', '-f', spec);
    }
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm'));
    assert.ok(api.calls.some((c) => c.user === `system:node:${owner.name}` && c.object === `nodes/${victim.name}` && c.status === 403), 'the API double refused the borrowed identity');
  });

  test('down leaves no machine, bridge, veth, address or nspawn process', async () => {
    const r = await runCli('down', '-f', spec, '--yes');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`3 machines, bridge ${bridge} and its addresses removed`));
    const links = (await run('ip', ['-o', 'link'])).stdout;
    assert.doesNotMatch(links, new RegExp(`\\b${bridge}\\b`));
    for (const h of hosts) assert.doesNotMatch(links, new RegExp(`vb-${h.name.slice(0, 12)}`));
    assert.doesNotMatch((await run('ip', ['-o', 'addr'])).stdout, new RegExp(` ${subnetPrefix.replace(/\./g, '\\.')}\\.`));
    const ps = (await run('ps', ['-eo', 'args'], { maxBuffer: 64 << 20 })).stdout;
    for (const h of hosts) assert.doesNotMatch(ps, new RegExp(`--machine=${h.name}\\b`));
    assert.deepEqual((await new LabProvider(cluster).recorded()).filter((h) => h.address !== undefined), [], 'no machine is recorded as running');
  });
});

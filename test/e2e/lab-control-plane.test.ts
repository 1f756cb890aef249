// End to end: `kubewright up` with a controlPlane section on the lab provider (issue 15's journey):
// one master (<name>-m0) and one worker (<name>-w0), systemd-nspawn machines with real systemd
// and sshd; run twice: etcd stacked on the master, then external on a machine of its own (<name>-e0). What is real: the etcd cluster on the master (Debian's etcd served from the test
// mirror in etcd's release layout, kubewright's peer/server/client certificates from etcd's CA),
// kubewright's PKI, SSH and apply phases, the worker's containerd/runc/CNI plugins (Debian's), the
// TLS every client below verifies.
// TEST DOUBLES (served as the mirror's binaries; test/e2e/stand-in-control-plane-lab.ts): the
// kube-apiserver stand-in reads every file its flags name, pairs each key with its certificate,
// has its etcd client certificate accepted by the real etcd, then forwards TCP 6443 to the
// Kubernetes API TEST DOUBLE (test/support/kube-api-double.ts) on this machine, which serves
// kubewright's own kube-apiserver certificate and key; the controller-manager and scheduler
// stand-ins reach it through their rendered kubeconfigs; the worker runs the STAND-IN KUBELET and
// STAND-IN FLANNELD of the lab e2e (test/e2e/lab-mirror.ts).
// Assertions resting on the doubles: that /readyz answers (the API double answers it), that the
// worker's Node is Ready (the stand-in kubelet's heartbeats, stored by the API double), that the
// RBAC objects were accepted (the API double validates them against the upstream schema), and
// that the controller-manager and scheduler connected (the API double records their CN). Real:
// the etcd members, the flannel config in the new etcd, the serving certificate clients verify
// through the endpoint, and that a re-run restarts nothing (systemd's InvocationIDs). Needs root.
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { listEtcdMembers } from '../../src/etcd/etcd-membership.ts';
import { EtcdV3Store } from '../../src/etcd/etcd-v3-store.ts';
import { readEtcdCa } from '../../src/pki/cluster-ca.ts';
import { controlPlaneCertNames } from '../../src/pki/control-plane-certificates.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { barePaths, resolvePkiDir } from '../../src/pki/pki-files.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { KUBELET_API_ROLE } from '../../src/render/control-plane/kubelet-api-rbac.ts';
import { binariesFor, controlPlaneBinariesFor, etcdBinariesFor } from '../../src/render/release-binaries.ts';
import type { UpResult } from '../../src/run/up.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { probeApiServer } from '../../src/verify/api-server-ready.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildEtcdMirror, debianEtcdVersion } from '../support/etcd-mirror.ts';
import { freePort } from '../support/free-port.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { KubeApiDouble } from '../support/kube-api-double.ts';
import { isolateTestLab, labE2eMissingPrerequisite, onLabHost } from '../support/lab-shell.ts';
import { buildLabMirror } from './lab-mirror.ts';
import { standInApiServer, standInKubeClient } from './stand-in-control-plane-lab.ts';
import { TEST_PREFLIGHT } from '../support/lab-spec.ts';

const kubernetesVersion = '1.36.2';
const apiServerUnits = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const workerUnits = ['containerd', 'kubelet', 'flanneld', 'kube-proxy'];


const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const mirrorPath = (dir: string, url: string): string => join(dir, new URL(url).host, new URL(url).pathname);

for (const placement of ['stacked', 'external'] as const) describe(`kubewright up builds a control plane on lab machines, end to end (etcd ${placement})`, { skip: labE2eMissingPrerequisite() }, () => {
  const tag = randomBytes(2).toString('hex');
  const stacked = placement === 'stacked';
  const name = `${stacked ? 'cp' : 'cx'}${tag}`;
  const bridge = `kw${stacked ? 'cp' : 'cx'}${tag}`;
  // the master runs etcd too when stacked; external etcd runs alone on <name>-e0
  const masterUnits = stacked ? ['etcd', ...apiServerUnits] : apiServerUnits;
  let dir = '';
  let spec = '';
  let cluster: Cluster;
  let provider: LabProvider | undefined;
  let api: KubeApiDouble | undefined;
  let teardown: ReturnType<typeof isolateTestLab> | undefined;
  let master: Host;
  let worker: Host;
  /** where etcd runs: the master when stacked, else <name>-e0 */
  let etcdHost: Host;
  /** every machine, in up's host order */
  let machines: Host[] = [];
  let etcdTls: { caPem: string; certPem: string; keyPem: string };
  let firstIds: Record<string, string> = {};

  const up = async (): Promise<{ result: UpResult; log: string }> => {
    const r = await runCli('up', '-f', spec, '--wait', '60s', '--output', 'json');
    const log = `${r.stderr}\n${r.stdout}`;
    assert.equal(r.code, 0, log);
    return { result: JSON.parse(r.stdout) as UpResult, log };
  };
  const invocationIds = async (): Promise<Record<string, string>> => {
    const all: Record<string, string> = {};
    for (const [h, units] of [[master, masterUnits], [worker, workerUnits], ...(stacked ? [] : [[etcdHost, ['etcd']] as const])] as const) {
      const out = await onLabHost(dir, h, `for u in ${units.join(' ')}; do echo "$u $(systemctl show -p InvocationID --value $u)"; done`);
      for (const line of out.trim().split('\n')) {
        const [unit, id] = line.split(' ');
        all[`${h.name}/${unit}`] = id ?? '';
      }
    }
    return all;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-e2e-cp-'));
    teardown = isolateTestLab(dir);
    spec = join(dir, 'cluster.yaml');
    const subnet = await freeSubnet(217, 100, 100);
    const gateway = subnet.replace('.0/24', '.1');
    const apiPort = await freePort('0.0.0.0');
    const etcdVersion = await debianEtcdVersion();
    const specText = (checksums: Record<string, string>): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ${name} }
kubernetes: { version: "1.36" }
provider:
  lab: { hosts: 1, subnet: ${subnet}, bridge: ${bridge} }
controlPlane: { count: 1${stacked ? '' : ', etcd: { count: 1 }'} }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
# Debian bookworm's containerd, runc, CNI plugins and etcd (what this machine and the lab image run)
versions: { containerd: "1.6.20", runc: "1.1.5", cniPlugins: "1.1.1", etcd: "${etcdVersion}" }
artifacts:
  mirror: ./mirror
  checksums: ${JSON.stringify(checksums)}
${TEST_PREFLIGHT}
`;
    await writeFile(spec, specText({}));
    const draft = parseCluster(await readFile(spec, 'utf8'), spec);
    const mirrorDir = join(dir, 'mirror');
    const controlPlaneBinaries = controlPlaneBinariesFor(draft, { kubernetesVersion });
    const mirror = await buildLabMirror(mirrorDir, [...binariesFor(draft, { kubernetesVersion }), ...controlPlaneBinaries], { kubernetesVersion, heartbeatSeconds: 1 });
    // the control plane's stand-ins, with dl.k8s.io's .sha256 (the digest alone) for their bytes
    for (const b of controlPlaneBinaries) {
      const script = b.name === 'kube-apiserver' ? standInApiServer(gateway, apiPort) : standInKubeClient(b.name as 'kube-controller-manager' | 'kube-scheduler');
      await writeFile(mirrorPath(mirrorDir, b.url), script, { mode: 0o755 });
      await mkdir(dirname(mirrorPath(mirrorDir, b.checksumUrl!)), { recursive: true });
      await writeFile(mirrorPath(mirrorDir, b.checksumUrl!), `${sha256(script)}\n`);
    }
    await buildEtcdMirror(mirrorDir, etcdBinariesFor(draft));
    await writeFile(spec, specText(mirror.pins));
    cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    provider = new LabProvider(cluster);

    // the machines and the bridge first, and the PKI, so the API double can serve kubewright's
    // kube-apiserver certificate on the bridge address before `up` waits for /readyz
    for (const args of [['lab', 'up', '-f', spec], ['pki', 'init', '-f', spec], ['pki', 'issue', '-f', spec]]) {
      const r = await runCli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    }
    const hosts = await provider.recorded();
    master = hosts.find((h) => h.role === 'control-plane')!;
    worker = hosts.find((h) => h.role === undefined)!;
    etcdHost = stacked ? master : hosts.find((h) => h.role === 'etcd')!;
    machines = stacked ? [master, worker] : [master, worker, etcdHost];
    assert.deepEqual([master.name, worker.name, etcdHost.name], [`${name}-m0`, `${name}-w0`, stacked ? `${name}-m0` : `${name}-e0`]);
    const pkiDir = resolvePkiDir(cluster);
    const serving = barePaths(pkiDir, controlPlaneCertNames.apiserver);
    api = new KubeApiDouble({
      caPem: await readFile(join(pkiDir, 'ca.pem'), 'utf8'), certPem: await readFile(serving.cert, 'utf8'), keyPem: await readFile(serving.key, 'utf8'),
      host: gateway, port: apiPort, staleAfterMs: heartbeatStaleAfterMs, gitVersion: `v${kubernetesVersion}`, authorization: 'node', anonymousHealth: true,
    });
    await api.start();
    // this test's own etcd client certificate, from etcd's CA: it reads the new cluster independently of kubewright's
    const etcdCa = await readEtcdCa(pkiDir);
    assert.ok(etcdCa);
    const client = await issueCertificate(etcdCa, { CN: 'e2e-reader', key: { algo: 'ecdsa', size: 256 } });
    etcdTls = { caPem: etcdCa.certPem, certPem: client.certPem, keyPem: client.keyPem };
  });

  after(async () => {
    await api?.stop().catch(() => undefined);
    await teardown?.(provider, bridge);
  });

  test(`up forms etcd on ${stacked ? 'the master' : 'its own machine'}, starts the API servers and waits for /readyz, then brings the worker up and verifies it`, async () => {
    const { result, log } = await up();
    assert.equal(result.ok, true, log);
    assert.deepEqual(result.etcdCluster && { mode: result.etcdCluster.mode, members: result.etcdCluster.members }, { mode: 'bootstrap', members: [{ name: etcdHost.name, status: 'changed' }] }, log);
    const endpoint = `https://${master.address}:6443`;
    assert.equal(result.controlPlane?.endpoint, endpoint);
    assert.deepEqual(result.controlPlane?.rbac.map((o) => `${o.kind} ${o.action}`), ['ClusterRole created', 'ClusterRoleBinding created'], log);
    assert.deepEqual(result.hosts.map((h) => `${h.name} ${h.status}`).sort(), machines.map((h) => `${h.name} changed`).sort(), log);
    assert.equal(result.verify?.ok, true, log);
    // verify's control-plane checks: the real etcd member read through its own client URL, and the
    // three components asked with curl on the master over SSH (answers from the stand-ins), one master: no balancing
    const cp = result.verify?.controlPlane;
    assert.deepEqual(cp?.etcd.members.map((m) => `${m.name} ${m.healthy} ${m.inSpec}`), [`${etcdHost.name} true true`], log);
    assert.deepEqual(cp?.components.map((c) => `${c.host} ${c.component} ${c.healthy}`), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${master.name} ${c} true`), log);
    assert.equal(cp?.endpoint.checked, false);

    // etcd: a real member list through this test's own client certificate
    const members = await listEtcdMembers([`https://${etcdHost.privateAddress}:2379`], { tls: etcdTls });
    assert.deepEqual(members?.map((m) => m.name), [etcdHost.name]);
    // flannel's network config is in the new etcd
    const store = new EtcdV3Store({ endpoints: [`https://${etcdHost.privateAddress}:2379`], tls: etcdTls });
    try {
      const config = JSON.parse((await store.get(`${cluster.etcd.prefix}/config`))?.value ?? '{}') as { Network?: string };
      assert.equal(config.Network, cluster.kubernetes.podCIDR.text);
    } finally {
      store.close();
    }

    // the endpoint answers /readyz with kubewright's serving certificate, verified by the cluster CA
    const caPem = await readFile(join(resolvePkiDir(cluster), 'ca.pem'), 'utf8');
    assert.deepEqual(await probeApiServer(endpoint, '/readyz', caPem), { status: 200, body: 'ok' });
    const presented = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: master.address!, port: 6443, ca: caPem }, () => {
        resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
        s.end();
      });
      s.on('error', reject);
    });
    const issued = new X509Certificate(await readFile(barePaths(resolvePkiDir(cluster), controlPlaneCertNames.apiserver).cert, 'utf8'));
    assert.equal(presented, issued.fingerprint256, 'the endpoint presents the kube-apiserver certificate kubewright issued');
    assert.ok(issued.checkIP(master.address!), 'the master\'s address is a SAN');

    // the master's units run; the controller-manager and scheduler reached the API through their rendered kubeconfigs
    assert.equal((await onLabHost(dir, master, `systemctl is-active ${masterUnits.join(' ')}`)).trim().split('\n').join(' '), masterUnits.map(() => 'active').join(' '));
    // external etcd: the master runs no etcd, the etcd machine nothing but etcd
    if (!stacked) {
      assert.equal((await onLabHost(dir, etcdHost, 'systemctl is-active etcd kube-apiserver || true')).trim().split('\n').join(' '), 'active inactive');
      assert.equal((await onLabHost(dir, master, 'systemctl is-active etcd || true')).trim(), 'inactive');
    }
    for (const user of ['system:kube-controller-manager', 'system:kube-scheduler']) {
      assert.ok(api!.calls.some((c) => c.user === user && c.path === '/version' && c.status === 200), `${user} connected`);
    }
    // the worker registered through the endpoint, as itself
    assert.deepEqual(api!.nodeWriters(worker.name), [`system:node:${worker.name}`]);
    assert.ok(api!.objects.has(`rbac.authorization.k8s.io/v1/clusterroles//${KUBELET_API_ROLE}`), 'the kubelet-API ClusterRole is stored');
    firstIds = await invocationIds();
    assert.ok(Object.values(firstIds).every((id) => /^[0-9a-f]{32}$/.test(id)), JSON.stringify(firstIds));
  });

  test('a second up changes nothing and restarts no unit on the master or the worker', async () => {
    assert.ok(Object.keys(firstIds).length > 0, 'the previous test ran');
    const { result, log } = await up();
    assert.deepEqual(result.etcdCluster && { mode: result.etcdCluster.mode, members: result.etcdCluster.members }, { mode: 'converge', members: [{ name: etcdHost.name, status: 'unchanged' }] }, log);
    assert.deepEqual(result.controlPlane?.masters, [{ name: master.name, status: 'unchanged' }]);
    assert.deepEqual(result.controlPlane?.rbac.filter((o) => o.action !== 'unchanged'), []);
    assert.deepEqual(result.pki?.issued, []);
    assert.equal(result.etcd && 'action' in result.etcd ? result.etcd.action : undefined, 'unchanged');
    assert.deepEqual(result.hosts.map((h) => h.status), machines.map(() => 'unchanged'), log);
    assert.deepEqual(await invocationIds(), firstIds);
  });

  test('plan after up: the master is planned beside the worker and has nothing to change (its etcd member keeps its bootstrap.env); etcd lists it as existing', async () => {
    const r = await runCli('plan', '-f', spec, '--output', 'json', '--detailed-exitcode');
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const plan = JSON.parse(r.stdout) as { hosts: { host: string; status: string }[]; etcdMembers?: unknown; summary: { changed: number } };
    assert.deepEqual(plan.hosts.map((h) => `${h.host} ${h.status}`).sort(), machines.map((h) => `${h.name} unchanged`).sort());
    assert.deepEqual(plan.etcdMembers, { existing: [etcdHost.name], toAdd: [], running: true });
    const text = await runCli('plan', '-f', spec);
    assert.match(text.stdout, new RegExp(`etcd members: 1 in the cluster \\(${etcdHost.name}\\)`));
  });

  test('up --events ndjson: the control-plane steps in their place, the master\'s host events inside etcd-cluster, the worker\'s inside apply', async () => {
    const r = await runCli('up', '-f', spec, '--wait', '60s', '--events', 'ndjson');
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const events = r.stdout.split('\n').map((line) => JSON.parse(line) as { step: string; host?: string; status: string });
    const steps = events.map((e) => e.step);
    assert.deepEqual(steps.filter((x, i) => x !== steps[i - 1]), ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify'], 'steps in order, never going back');
    // a stacked master is applied with its etcd member; an external etcd's master in the control-plane step
    assert.deepEqual([...new Set(events.filter((e) => e.host === master.name).map((e) => e.step))], [stacked ? 'etcd-cluster' : 'control-plane']);
    if (!stacked) assert.deepEqual([...new Set(events.filter((e) => e.host === etcdHost.name).map((e) => e.step))], ['etcd-cluster']);
    assert.deepEqual([...new Set(events.filter((e) => e.host === worker.name).map((e) => e.step))], ['apply']);
    assert.deepEqual(events.filter((e) => e.host === undefined && e.status !== 'running').map((e) => `${e.step} ${e.status}`), [
      'provision ok', 'pki ok', 'etcd-cluster ok', 'control-plane ok', 'etcd ok', 'apply ok', 'dns ok', 'remove skipped', 'verify ok',
    ]);
    assert.deepEqual(await invocationIds(), firstIds, 'a third up restarts nothing either');
  });
});

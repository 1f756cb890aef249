// A real etcd cluster on 4 systemd-nspawn machines (real systemd, Debian's etcd binary served
// from a local mirror in etcd's release layout, test/support/etcd-mirror.ts): ensureEtcdCluster
// forms it with kubewright's peer/server certificates from etcd's own CA, flannel's network config
// goes into it, a re-run restarts
// nothing, it survives a stopped member, the fourth machine joins through the member API, and a
// peer certificate from another CA is refused. No test doubles. Needs root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { listEtcdMembers, waitForEtcdQuorum } from '../../src/etcd/etcd-membership.ts';
import { EtcdV3Store } from '../../src/etcd/etcd-v3-store.ts';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { readEtcdCa } from '../../src/pki/cluster-ca.ts';
import { ensureClusterPki } from '../../src/pki/cluster-pki.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { kubernetesProfile } from '../../src/pki/signing-profile.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { etcdClientUrl, etcdPaths, etcdPeerUrl } from '../../src/render/etcd-member.ts';
import { etcdBinariesFor } from '../../src/render/release-binaries.ts';
import { connectHost, sshOptionsFor } from '../../src/run/connect.ts';
import { ensureEtcdCluster, ensureFlannelNetworkInEtcd, type EtcdClusterReport } from '../../src/run/etcd-cluster.ts';
import type { HostEvent } from '../../src/run/run-hosts.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { buildEtcdMirror, debianEtcdVersion } from '../support/etcd-mirror.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { isolateTestLab, onLabHost } from '../support/lab-shell.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;

describe('an etcd cluster on systemd-nspawn machines', { skip }, () => {
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwe${tag}`;
  let dir = '';
  let provider: LabProvider;
  let cluster: Cluster;
  let machines: Host[] = [];
  let store: ArtifactStore;
  let last: EtcdClusterReport;
  let gateway = '';
  let teardown: ReturnType<typeof isolateTestLab> | undefined;

  const members = (n: number): Host[] => machines.slice(0, n).map((h) => ({ ...h, role: 'control-plane' as const }));
  const onHost = (h: Host, cmd: string): Promise<string> => onLabHost(dir, h, cmd);
  const invocation = async (h: Host): Promise<string> => (await onHost(h, 'systemctl show -p InvocationID,ActiveState etcd.service')).trim();
  const ensure = async (n: number, onEvent?: (e: HostEvent) => void): Promise<EtcdClusterReport> => {
    const ssh = await sshOptionsFor(cluster, false);
    last = await ensureEtcdCluster(cluster, members(n), { connect: (h) => connectHost(h, ssh), binaries: store, quorumDeadlineMs: 90_000, onEvent });
    return last;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-etcd-nspawn-'));
    teardown = isolateTestLab(dir);
    const subnet = await freeSubnet(216, 100, 100);
    const etcdVersion = await debianEtcdVersion();
    gateway = subnet.replace('.0/24', '.1');
    const spec = (extra: string): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: kwe${tag} }
kubernetes: { version: "1.36.2"${extra === '' ? `, apiServer: "https://${subnet.replace('.0/24', '.1')}:6443"` : ''} }
provider:
  lab: { hosts: 4, subnet: ${subnet}, bridge: ${bridge} }
${extra}
versions: { etcd: "${etcdVersion}" }
pki: { dir: ./pki }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
artifacts: { mirror: ./mirror }
`;
    // four plain lab machines (no controlPlane section); the etcd cluster is told they are its stacked members
    provider = new LabProvider(parseCluster(spec(''), join(dir, 'machines.yaml')));
    const specFile = join(dir, 'cluster.yaml');
    await writeFile(specFile, spec('controlPlane: { count: 3 }'));
    cluster = parseCluster(spec('controlPlane: { count: 3 }'), specFile);
    await buildEtcdMirror(join(dir, 'mirror'), etcdBinariesFor(cluster));
    store = new ArtifactStore({ mirror: join(dir, 'mirror'), pins: {}, cacheDir: join(dir, 'cache') });
    // a new PKI directory gets etcd's own CA beside the cluster CA
    await ensureClusterPki(cluster, []);
    machines = await provider.boot();
  });

  after(async () => {
    await teardown?.(provider, bridge);
  });

  test('three members form a cluster with kubewright\'s peer certificates and agree on a write', async () => {
    const r = await ensure(3);
    assert.equal(r.mode, 'bootstrap');
    assert.deepEqual(r.members.map((m) => m.status), ['changed', 'changed', 'changed']);
    const listed = await listEtcdMembers(r.connection.endpoints, { tls: r.connection.tls });
    assert.deepEqual(listed?.map((m) => m.name).sort(), members(3).map((h) => h.name).sort());
    assert.deepEqual(listed?.flatMap((m) => m.peerURLs).sort(), members(3).map(etcdPeerUrl).sort());
    // written through the first member, read back through the third
    const first = new EtcdV3Store({ endpoints: [r.connection.endpoints[0]!], tls: r.connection.tls });
    const third = new EtcdV3Store({ endpoints: [r.connection.endpoints[2]!], tls: r.connection.tls });
    try {
      await first.putIfUnchanged('/kw-test/formed', tag, undefined);
      assert.equal((await third.get('/kw-test/formed'))?.value, tag);
    } finally {
      first.close();
      third.close();
    }
    // the peers talk TLS with the certificate kubewright issued for each member (CN = host name, from etcd's CA)
    const h = members(1)[0]!;
    const subject = await onHost(h, `openssl x509 -in ${etcdPaths.peerCert} -noout -subject -issuer -ext subjectAltName`);
    assert.match(subject, new RegExp(`subject=.*CN ?= ?${h.name}`));
    assert.match(subject, /issuer=.*CN ?= ?etcd-ca/);
    assert.match(subject, new RegExp(`IP Address:${h.privateAddress!.replaceAll('.', '\\.')}`));
    assert.match(await onHost(h, `grep -c 'ETCD_INITIAL_CLUSTER_STATE=new' ${etcdPaths.bootstrapEnv}`), /^1/);
  });

  test('flannel\'s network config goes into the new cluster once (journey step 5)', async () => {
    const first = await ensureFlannelNetworkInEtcd(cluster, last);
    assert.equal(first.action, 'create');
    assert.equal((await ensureFlannelNetworkInEtcd(cluster, last)).action, 'unchanged');
    const third = new EtcdV3Store({ endpoints: [last.connection.endpoints[2]!], tls: last.connection.tls });
    try {
      assert.deepEqual(JSON.parse((await third.get('/flannel.com/network/config'))?.value ?? '{}'), JSON.parse(first.value));
    } finally {
      third.close();
    }
  });

  test('a re-run restarts nothing and changes nothing', async () => {
    const before = await Promise.all(members(3).map(invocation));
    const r = await ensure(3);
    assert.equal(r.mode, 'converge');
    assert.deepEqual(r.members.map((m) => m.status), ['unchanged', 'unchanged', 'unchanged']);
    assert.deepEqual(await Promise.all(members(3).map(invocation)), before);
  });

  test('a change that restarts every member goes one member at a time, each back in the quorum before the next starts', async () => {
    const before = await Promise.all(members(3).map(invocation));
    // new server certificates for every member: each etcd.service must restart
    await rm(join(dir, 'pki', 'etcd'), { recursive: true, force: true }).catch(() => undefined);
    const events: (HostEvent & { at: number })[] = [];
    const r = await ensure(3, (e) => events.push({ ...e, at: performance.now() }));
    assert.equal(r.mode, 'converge');
    assert.deepEqual(r.members.map((m) => m.status), ['changed', 'changed', 'changed']);
    const windows = members(3).map((h) => {
      const mine = events.filter((e) => e.host === h.name);
      const start = mine.find((e) => /^restart etcd\.service/.test(e.message))?.at;
      const end = mine.findLast((e) => e.phase === 'done')?.at;
      assert.ok(start !== undefined && end !== undefined, `${h.name}: ${JSON.stringify(mine.map((e) => e.message))}`);
      return { host: h.name, start, end };
    }).sort((a, b) => a.start - b.start);
    for (let i = 1; i < windows.length; i++) assert.ok(windows[i - 1]!.end <= windows[i]!.start, `${windows[i - 1]!.host} was back before ${windows[i]!.host} restarted: ${JSON.stringify(windows)}`);
    assert.equal(events.filter((e) => e.phase === 'rollout' && /waiting for its turn/.test(e.message)).length, 3, 'every member waited for its turn');
    const afterIds = await Promise.all(members(3).map(invocation));
    afterIds.forEach((id, i) => assert.notEqual(id, before[i]));
  });

  test('a peer certificate from another CA is refused on the peer port; the same certificate from etcd\'s CA is accepted', async () => {
    // etcd also checks that a peer certificate names the address it connects from: this machine's bridge address
    const from = { CN: 'outsider', hosts: [gateway], key: { algo: 'ecdsa' as const, size: 256 } };
    const stranger = await createCertificateAuthority({ commonName: 'etcd-ca', key: { algo: 'ecdsa', size: 256 } });
    const foreign = await issueCertificate(stranger, from, kubernetesProfile);
    const own = await issueCertificate((await readEtcdCa(join(dir, 'pki')))!, from, kubernetesProfile);
    const target = members(2)[1]!;
    const peerMembers = (cred: { certPem: string; keyPem: string }): Promise<string> => new Promise((resolve, reject) => {
      const req = request(new URL('/members', etcdPeerUrl(target)), { ca: last.credentials.etcdCaPem, cert: cred.certPem, key: cred.keyPem, servername: target.name, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
    assert.match(await peerMembers(own), /^200 .*peerURLs/);
    await assert.rejects(peerMembers(foreign), /certificate|alert|socket hang up|ECONNRESET/i);
  });

  test('it survives one member stopped, and a re-run starts only that member again', async () => {
    const [a, b, c] = members(3) as [Host, Host, Host];
    const before = await Promise.all([a, b].map(invocation));
    await onHost(c, 'systemctl stop etcd.service');
    const answered = await waitForEtcdQuorum(last.connection.endpoints, { tls: last.connection.tls, majorityOnly: true, deadlineMs: 20_000 });
    assert.deepEqual(answered.sort(), [etcdClientUrl(a), etcdClientUrl(b)].sort());
    const store2 = new EtcdV3Store({ endpoints: [etcdClientUrl(b)], tls: last.connection.tls });
    try {
      await store2.putIfUnchanged('/kw-test/two-of-three', 'yes', undefined);
    } finally {
      store2.close();
    }
    const r = await ensure(3);
    assert.deepEqual(r.members.map((m) => m.status), ['unchanged', 'unchanged', 'changed']);
    assert.match(await invocation(c), /ActiveState=active/);
    assert.deepEqual(await Promise.all([a, b].map(invocation)), before);
  });

  test('a fourth member joins through the member API; the running members are not restarted', async () => {
    const before = await Promise.all(members(3).map(invocation));
    const r = await ensure(4);
    assert.equal(r.mode, 'join');
    assert.deepEqual(r.added, [members(4)[3]!.name]);
    const listed = await listEtcdMembers(r.connection.endpoints, { tls: r.connection.tls });
    assert.equal(listed?.length, 4);
    assert.ok(listed?.every((m) => m.name !== ''), 'every member started');
    assert.deepEqual(await Promise.all(members(3).map(invocation)), before);
    const env = await onHost(members(4)[3]!, `cat ${etcdPaths.bootstrapEnv}`);
    assert.match(env, /ETCD_INITIAL_CLUSTER_STATE=existing/);
    for (const h of members(4)) assert.match(env, new RegExp(`${h.name}=${etcdPeerUrl(h).replaceAll('.', '\\.')}`));
    // the data written before the join is there on the new member
    const fourth = new EtcdV3Store({ endpoints: [etcdClientUrl(members(4)[3]!)], tls: r.connection.tls });
    try {
      assert.equal((await fourth.get('/kw-test/formed'))?.value, tag);
    } finally {
      fourth.close();
    }
  });
});

// Stand-in kubelets (test doubles) inside lab machines register through the bridge: each node
// gets its rendered kubeconfig and certificates over ssh, reaches the API test double at the
// spec's apiServer (the host's bridge address) from inside the node, and authenticates as
// system:node:<its name>. verify passes; stopping one node's kubelet unit fails it (exit 3).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readClusterCa } from '../../src/pki/cluster-ca.ts';
import { ensureClusterPki } from '../../src/pki/cluster-pki.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import type { Host } from '../../src/spec/host.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { modernPaths } from '../../src/render/modern/paths.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { applyDnsAddon } from '../../src/addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../../src/verify/kube-client.ts';
import { KubeApiDouble } from '../support/kube-api-double.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { runCli } from '../helpers/run-cli.ts';
import { freePort } from '../support/free-port.ts';
import { freeSubnet } from '../support/free-subnet.ts';

const needsRoot = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;
const standInKubelet = join(import.meta.dirname, '../support/stand-in-kubelet.sh');

describe('stand-in kubelets in lab machines', { skip: needsRoot }, () => {
  let dir = '';
  let spec = '';
  let cluster: Cluster;
  let provider: LabProvider;
  let hosts: Host[] = [];
  let api: KubeApiDouble;
  const tag = randomBytes(2).toString('hex');

  const ssh = (address: string, cmd: string, input?: string) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('ssh', ['-F', '/dev/null', '-i', join(dir, 'id_ed25519'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${address}`, cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh ${address} ${cmd}: exit ${code}: ${err}`))));
      p.stdin.end(input ?? '');
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-labk-'));
    spec = join(dir, 'lab.yaml');
    const subnet = await freeSubnet(213, 200, 50);
    const bridgeIp = subnet.replace('.0/24', '.1');
    const port = await freePort('0.0.0.0');
    await writeFile(spec, `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: lk${tag} }
kubernetes: { version: "1.36.2", apiServer: "https://${bridgeIp}:${port}" }
provider:
  lab: { hosts: 3, subnet: ${subnet}, bridge: kwlk${tag} }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
`);
    cluster = parseCluster(await readFile(spec, 'utf8'), spec);
    provider = new LabProvider(cluster);
    hosts = await provider.boot();

    const pki = await ensureClusterPki(cluster, hosts);
    const ca = await readClusterCa(pki.paths.dir);
    assert.ok(ca);
    const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: [bridgeIp] });
    api = new KubeApiDouble({ caPem: pki.credentials.caPem, certPem: serving.certPem, keyPem: serving.keyPem, host: bridgeIp, port, staleAfterMs: heartbeatStaleAfterMs, gitVersion: 'v1.36.2', authorization: 'node' });
    await api.start();
    await applyDnsAddon(adminKubeConfig(cluster.kubernetes.apiServer, pki.credentials.caPem, pki.admin), renderCluster({ cluster, hosts }).cluster);

    // each node: its rendered kubeconfig and certificates, at the rendered paths, over ssh
    const rendered = renderCluster({ cluster, hosts, credentials: pki.credentials });
    const wanted = new Set<string>([modernPaths.kubeletKubeconfig, modernPaths.kubeCa, modernPaths.kubeletCert, modernPaths.kubeletKey]);
    const script = await readFile(standInKubelet, 'utf8');
    await Promise.all(hosts.map(async (h) => {
      const files = rendered.hosts.get(h.name)?.files.filter((f) => wanted.has(f.path)) ?? [];
      assert.equal(files.length, wanted.size, `${h.name}: rendered kubelet files`);
      for (const f of files) await ssh(h.address ?? '', `mkdir -p "$(dirname ${f.path})" && cat >${f.path} && chmod ${f.mode.toString(8)} ${f.path}`, f.contents);
      await ssh(h.address ?? '', 'cat >/usr/local/bin/stand-in-kubelet && chmod 755 /usr/local/bin/stand-in-kubelet', script);
      await ssh(h.address ?? '', `systemd-run --unit=stand-in-kubelet /usr/local/bin/stand-in-kubelet --kubeconfig ${modernPaths.kubeletKubeconfig} --node-name ${h.name} --kubelet-version v1.36.2 --interval 1 --address ${h.address}`);
    }));
  });

  after(async () => {
    await api?.stop();
    await provider?.remove().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  test('every node registers from inside its machine as system:node:<name> and verify passes', async () => {
    const r = await runCli('verify', '-f', spec, '--wait', '30s');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const h of hosts) {
      assert.match(r.stdout, new RegExp(`^${h.name}\\s+Ready\\s+\\S+\\s+v1\\.36\\.2$`, 'm'));
      assert.deepEqual(api.nodeWriters(h.name), [`system:node:${h.name}`]);
      const addresses = (api.node(h.name)?.['status'] as { addresses?: { address: string }[] }).addresses?.map((a) => a.address);
      assert.ok(addresses?.includes(h.address ?? ''), `${h.name} reports its lab address`);
    }
  });

  test('stopping one node\'s kubelet unit makes verify fail with exit 3 naming that node', async () => {
    const victim = hosts[1];
    assert.ok(victim);
    await ssh(victim.address ?? '', 'systemctl stop stand-in-kubelet');
    // NotReady after heartbeatStaleAfterMs without a beat; wait for the victim itself (on a busy
    // machine verify may first fail for another reason, which must not end the wait)
    const victimNotReady = new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm');
    const deadline = Date.now() + heartbeatStaleAfterMs + 30_000;
    let r = await runCli('verify', '-f', spec);
    while (!(r.code === 3 && victimNotReady.test(r.stdout)) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      r = await runCli('verify', '-f', spec);
    }
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, new RegExp(`^${victim.name}\\s+NotReady\\s`, 'm'));
    assert.match(r.stdout, new RegExp(`${victim.name}: Ready=Unknown: Kubelet stopped posting node status`));
  });
});

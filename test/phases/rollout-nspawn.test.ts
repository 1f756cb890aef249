// Rolling upgrades with real systemd: 3 systemd-nspawn machines from the lab provider (own bridge
// and subnet), the modern profile's real rendered files and units, the Kubernetes API TEST DOUBLE
// (test/support/kube-api-double.ts) on the bridge address, and per machine the STAND-IN KUBELET
// (TEST DOUBLE, test/support/stand-in-kubelet.sh behind the real kubelet's flags) that registers
// its Node and posts Ready with the kubelet version it was built for; the other binaries are the
// sleeping stand-ins of test/support/artifact-mirror.ts. The mirror serves 1.35.4 and 1.36.2.
// Judges: systemd itself (InvocationID, monotonic timestamps of each kubelet's stop and start)
// and the double's Node objects (what the stand-in kubelet reported). Needs root.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readClusterCa } from '../../src/pki/cluster-ca.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { resolvePkiDir } from '../../src/pki/pki-files.ts';
import { LabProvider } from '../../src/providers/lab/lab-provider.ts';
import { binariesFor } from '../../src/render/release-binaries.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { runCli } from '../helpers/run-cli.ts';
import { standInKubeletBinary } from '../e2e/lab-mirror.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { freePort } from '../support/free-port.ts';
import { freeSubnet } from '../support/free-subnet.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';
import { KubeApiDouble, type KubeApiDoubleOptions } from '../support/kube-api-double.ts';
import { isolateTestLab, onLabHost } from '../support/lab-shell.ts';
import { labGateway, labSpecYaml } from '../support/lab-spec.ts';
import { putPod } from '../support/admin-api.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (systemd-nspawn, bridges)' : false;
const [OLD, NEW] = ['1.35.4', '1.36.2'];

interface KubeletRun {
  invocationId: string;
  /** CLOCK_MONOTONIC µs (shared by the machines and this process): the old run began to stop, the new one became active */
  stoppedAt: bigint;
  activeAt: bigint;
}

describe('rolling upgrade on 3 systemd-nspawn hosts', { skip }, () => {
  const tag = randomBytes(2).toString('hex');
  const bridge = `kwo${tag}`;
  let dir = '';
  let spec = '';
  let specText: (version: string, dns: string) => string;
  let provider: LabProvider;
  let hosts: Host[] = [];
  let api: KubeApiDouble | undefined;
  // the double reads gitVersion from this object on every /version request: tests change it
  let apiOptions: KubeApiDoubleOptions;
  let teardown: ReturnType<typeof isolateTestLab> | undefined;

  const onHost = (h: Host, cmd: string): Promise<string> => onLabHost(dir, h, cmd);

  async function kubeletRun(h: Host): Promise<KubeletRun> {
    const out = await onHost(h, 'systemctl show -p InvocationID,ActiveExitTimestampMonotonic,ActiveEnterTimestampMonotonic kubelet.service');
    const kv = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { invocationId: kv['InvocationID'] ?? '', stoppedAt: BigInt(kv['ActiveExitTimestampMonotonic'] ?? '0'), activeAt: BigInt(kv['ActiveEnterTimestampMonotonic'] ?? '0') };
  }
  const kubeletRuns = async (): Promise<KubeletRun[]> => Promise.all(hosts.map(kubeletRun));

  const nodeVersion = (h: Host): string | undefined => (api?.node(h.name)?.['status'] as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo?.kubeletVersion;
  const nodeReady = (h: Host): boolean =>
    (api?.node(h.name)?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

  async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-rollout-nspawn-'));
    spec = join(dir, 'cluster.yaml');
    teardown = isolateTestLab(dir);
    const subnet = await freeSubnet(219, 100, 100);
    const gateway = labGateway(subnet);
    const apiPort = await freePort('0.0.0.0');
    const base = (version: string, dns: string, pins: Record<string, string>): string =>
      labSpecYaml({ name: `kwo${tag}`, hosts: 3, subnet, bridge, version, apiPort, clusterDNS: dns, pkiDir: './pki', pins });
    await writeFile(spec, base(OLD, '10.32.0.10', {}));
    const cluster = parseCluster(base(OLD, '10.32.0.10', {}), spec);
    provider = new LabProvider(cluster);
    hosts = await provider.boot();

    // one mirror for both releases: the stand-ins of artifact-mirror.ts, and per release the
    // stand-in kubelet reporting that release, with its published .sha256 rewritten to match
    const wanted = new Map<string, BinarySpec>();
    for (const v of [OLD, NEW]) for (const b of binariesFor(parseCluster(base(v, '10.32.0.10', {}), spec), { kubernetesVersion: v })) wanted.set(`${b.url} ${b.archiveMember ?? ''}`, b);
    const mirror = await buildArtifactMirror(join(dir, 'mirror'), [...wanted.values()]);
    for (const v of [OLD, NEW]) {
      const kubelet = [...wanted.values()].find((b) => b.name === 'kubelet' && b.url.includes(`/v${v}/`));
      assert.ok(kubelet?.checksumUrl, `the ${v} kubelet has a published checksum`);
      const local = (url: string): string => join(dir, 'mirror', new URL(url).host, new URL(url).pathname);
      const bytes = await standInKubeletBinary(`v${v}`, 1);
      await writeFile(local(kubelet.url), bytes, { mode: 0o755 });
      await writeFile(local(kubelet.checksumUrl), `${createHash('sha256').update(bytes).digest('hex')}\n`);
    }
    specText = (version, dns) => base(version, dns, mirror.pins);
    await writeFile(spec, specText(OLD, '10.32.0.10'));

    for (const args of [['pki', 'init', '-f', spec], ['pki', 'issue', '-f', spec]]) {
      const r = await runCli(...args);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const pkiDir = resolvePkiDir(cluster);
    const ca = await readClusterCa(pkiDir);
    assert.ok(ca);
    const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: [gateway] });
    apiOptions = { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, host: gateway, port: apiPort, staleAfterMs: heartbeatStaleAfterMs, gitVersion: `v${NEW}`, authorization: 'node' };
    api = new KubeApiDouble(apiOptions);
    await api.start();

    // fresh machines: every unit is started (not restarted), so no host is disruptive and all go at once
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /waiting for its turn/);
    await until(`every Node Ready with kubelet v${OLD}`, () => hosts.every((h) => nodeReady(h) && nodeVersion(h) === `v${OLD}`));
  });

  after(async () => {
    await api?.stop().catch(() => undefined);
    await teardown?.(provider, bridge);
  });

  test('a kubelet newer than the API server, or older than the skew policy allows, is refused (exit 2) by plan and apply, and nothing restarts', async () => {
    const before = await kubeletRuns();
    await writeFile(spec, specText(NEW, '10.32.0.10'));
    apiOptions.gitVersion = `v${OLD}`;
    for (const command of ['plan', 'apply']) {
      const r = await runCli(command, '-f', spec);
      assert.equal(r.code, 2, `${command}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`kubernetes\\.version: kubelet ${NEW.replaceAll('.', '\\.')} cannot join the API server at .*, which runs v${OLD.replaceAll('.', '\\.')}: a kubelet may not be newer than the API server`));
      assert.match(r.stderr, /upgrade the control plane first, or set kubernetes\.version .* to a minor from 1\.32 to 1\.35/);
    }
    // 1.35 kubelets under a 1.39 API server: 4 minors behind, one more than the policy allows
    await writeFile(spec, specText(OLD, '10.32.0.10'));
    apiOptions.gitVersion = 'v1.39.0';
    const old = await runCli('plan', '-f', spec);
    assert.equal(old.code, 2, `${old.stdout}\n${old.stderr}`);
    assert.match(old.stderr, /a kubelet may be at most 3 minor versions older than an API server of 1\.39 \(it is 4\)/);
    apiOptions.gitVersion = `v${NEW}`;
    assert.deepEqual(await kubeletRuns(), before);
  });

  test('plan shows the rollout order, --max-unavailable hosts per batch', async () => {
    await writeFile(spec, specText(NEW, '10.32.0.10'));
    const names = hosts.map((h) => h.name);
    const one = await runCli('plan', '-f', spec);
    assert.equal(one.code, 0, `${one.stdout}\n${one.stderr}`);
    assert.match(one.stdout, /^rollout: 3 host\(s\) restart the kubelet or the container runtime: .* at most 1 at a time .*Nodes are Ready with the new kubelet/m);
    assert.deepEqual(one.stdout.split('\n').filter((l) => /^rollout: {3}\d/.test(l)), names.map((n, i) => `rollout:   ${i + 1}. ${n}`));
    const two = await runCli('plan', '-f', spec, '--max-unavailable', '2', '-o', 'json');
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual((JSON.parse(two.stdout) as { rollout: string[][] }).rollout, [names.slice(0, 2), names.slice(2)]);
  });

  test(`apply rolls ${OLD} → ${NEW} one kubelet at a time: each restarts only after the previous Node is Ready with the new kubelet`, async () => {
    await writeFile(spec, specText(NEW, '10.32.0.10'));
    const before = await kubeletRuns();
    // when each Node first reported the new kubelet as Ready, on the machines' monotonic clock (µs)
    const readyAt = new Map<string, bigint>();
    const watch = setInterval(() => {
      for (const h of hosts) if (!readyAt.has(h.name) && nodeReady(h) && nodeVersion(h) === `v${NEW}`) readyAt.set(h.name, process.hrtime.bigint() / 1000n);
    }, 50);
    let r;
    try {
      r = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--node-ready-timeout', '30s');
    } finally {
      clearInterval(watch);
    }
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const after = await kubeletRuns();
    for (const [i, h] of hosts.entries()) {
      assert.notEqual(after[i]!.invocationId, before[i]!.invocationId, `${h.name}: kubelet restarted`);
      assert.equal(nodeVersion(h), `v${NEW}`, `${h.name}\n${r.stdout}\n${r.stderr}`);
      assert.ok(after[i]!.stoppedAt < after[i]!.activeAt);
    }
    // the windows [old kubelet stops, Node Ready with the new one] follow each other in host order, without overlap
    const windows = hosts.map((h, i) => ({ host: h.name, from: after[i]!.stoppedAt, to: readyAt.get(h.name) ?? 0n }));
    for (let i = 1; i < windows.length; i++) {
      const [prev, next] = [windows[i - 1]!, windows[i]!];
      assert.ok(prev.to > prev.from && prev.to < next.from, `${prev.host} [${prev.from}, ${prev.to}] ends before ${next.host} [${next.from}, ${next.to}] begins`);
    }
    const again = await runCli('apply', '-f', spec);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await kubeletRuns(), after, 'a second apply restarts nothing');
  });

  test('a host that does not come back stops the rollout: the next host is untouched, and a re-run resumes', async () => {
    const [first, broken, last] = [hosts[0]!, hosts[1]!, hosts[2]!];
    // an operator's drop-in on the second host: its next kubelet runs but never reports to the API
    const dropIn = '/etc/systemd/system/kubelet.service.d/90-test-broken.conf';
    await onHost(broken, `mkdir -p ${dropIn.replace(/\/[^/]+$/, '')} && printf '[Service]\\nExecStart=\\nExecStart=/bin/sleep infinity\\n' >${dropIn} && systemctl daemon-reload`);
    const before = await kubeletRuns();
    const lastConfig = await onHost(last, 'cat /var/lib/kubelet/config.yaml');
    await writeFile(spec, specText(NEW, '10.32.0.53'));
    const r = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--node-ready-timeout', '12s');
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${broken.name}: Node ${broken.name} not Ready with kubelet v${NEW.replaceAll('.', '\\.')} within 12 s after the change`));
    assert.match(r.stderr, new RegExp(`apply stopped the rollout at ${broken.name}: done: ${first.name}; failed: ${broken.name}; untouched: ${last.name} — .*re-run apply`));
    assert.match(r.stdout, new RegExp(`^${last.name} +untouched +- .*the rollout stopped at ${broken.name}`, 'm'));
    const after = await kubeletRuns();
    assert.notEqual(after[0]!.invocationId, before[0]!.invocationId, `${first.name}: restarted`);
    assert.notEqual(after[1]!.invocationId, before[1]!.invocationId, `${broken.name}: restarted (into the broken kubelet)`);
    assert.equal(after[2]!.invocationId, before[2]!.invocationId, `${last.name}: kubelet untouched`);
    assert.equal(await onHost(last, 'cat /var/lib/kubelet/config.yaml'), lastConfig, `${last.name}: config untouched`);

    // the operator's fix: the drop-in goes and the kubelet restarts
    await onHost(broken, `rm ${dropIn} && systemctl daemon-reload && systemctl restart kubelet.service`);
    await until(`${broken.name} Ready again`, () => nodeReady(broken));
    const resumed = await runCli('apply', '-f', spec, '--wait-timeout', '30s', '--node-ready-timeout', '30s', '-o', 'json');
    assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
    const results = new Map(resumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host?: string; result?: { status: string } }).filter((e) => e.result).map((e) => [e.host, e.result!.status]));
    // the broken host got its files before it failed: the rollout resumes with the untouched host
    assert.deepEqual(hosts.map((h) => results.get(h.name)), ['unchanged', 'unchanged', 'changed'], resumed.stdout);
    const final = await kubeletRuns();
    assert.equal(final[0]!.invocationId, after[0]!.invocationId);
    assert.notEqual(final[2]!.invocationId, after[2]!.invocationId);
    assert.match(await onHost(last, 'cat /var/lib/kubelet/config.yaml'), /10\.32\.0\.53/);
  });

  test('--drain cordons and drains each Node before its kubelet restarts, and uncordons it once it is back', async () => {
    assert.ok(api);
    for (const h of hosts) putPod(api, { name: `web-${h.name}`, node: h.name, owner: 'ReplicaSet/web-5d4' });
    putPod(api, { name: 'flannel-w', namespace: 'kube-system', node: hosts[0]!.name, owner: 'DaemonSet/kube-flannel' });
    api.calls.length = 0;
    await writeFile(spec, specText(NEW, '10.32.0.10'));
    const r = await runCli('apply', '-f', spec, '--drain', '--drain-timeout', '20s', '--node-ready-timeout', '30s', '--wait-timeout', '30s');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const h of hosts) {
      assert.deepEqual(api.pods(h.name), h === hosts[0] ? ['kube-system/flannel-w'] : [], `${h.name}: evicted all but the DaemonSet pod`);
      assert.notEqual((api.node(h.name)?.['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable, true, `${h.name}: uncordoned`);
    }
    // per host, in host order: cordon, eviction, uncordon, and only then the next host's cordon
    const steps = api.calls.filter((c) => c.user === 'admin' && ((c.method === 'PATCH' && c.object?.startsWith('nodes/')) || c.path.endsWith('/eviction'))).map((c) => (c.method === 'PATCH' ? `patch ${c.object ?? ''}` : `evict ${c.path.split('/').slice(-2, -1)[0] ?? ''}`));
    assert.deepEqual(steps, hosts.flatMap((h) => [`patch nodes/${h.name}`, `evict web-${h.name}`, `patch nodes/${h.name}`]));
  });
});

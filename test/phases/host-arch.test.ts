// Binaries are picked by the arch gather reports (`uname -m`): arm64 hosts get arm64 builds, other
// machines are refused by name. Pure tests plan from a GATHER DOUBLE (hand-written facts); the CLI
// test runs real sshd hosts whose `uname` is a TEST DOUBLE (a shim first in PATH printing aarch64).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LocalBinary } from '../../src/artifacts/artifact-store.ts';
import { UnsupportedArchError } from '../../src/phases/host-arch.ts';
import type { HostFacts } from '../../src/phases/host-facts.ts';
import { planFromFacts, type BinarySource } from '../../src/phases/manager.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { binariesFor } from '../../src/render/release-binaries.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';
import { TEST_PREFLIGHT } from '../support/lab-spec.ts';

const spec = (hosts: string, mirror = '/nonexistent', pins: Record<string, string> = {}): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: arch }
kubernetes: { version: "1.36.2", apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [${hosts}] } }
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
artifacts: { mirror: ${mirror}, checksums: ${JSON.stringify(pins)} }
${TEST_PREFLIGHT}
`;

/** gather double: a fresh host of this machine type */
const facts = (arch: string): HostFacts => ({ os: 'debian 12', arch, systemd: 'systemd 252', freeDiskKb: 1e7, files: new Map(), missingDirs: new Set(), tempFiles: [], units: new Map() });
/** binary source double: knows no digest, downloads nothing */
const noBinaries: BinarySource = {
  knownInstalledDigest: async () => undefined,
  binary: async (): Promise<LocalBinary> => {
    throw new Error('test double: no downloads');
  },
};

const cluster = parseCluster(spec('{ name: w1, address: 127.0.0.1 }'), '/tmp/arch.yaml');
const rendered = renderCluster({ cluster, hosts: plannedHosts(cluster) }).hosts.values().next().value!;
const forArch = (arch: 'amd64' | 'arm64'): BinarySpec[] => binariesFor(cluster, arch);

test('an aarch64 host is planned with arm64 binaries, an x86_64 host with amd64 ones', async () => {
  const arm = await planFromFacts('w1', rendered, facts('aarch64'), noBinaries, { fetchBinaries: false, binariesFor: forArch });
  const urls = arm.actions.filter((a) => a.kind === 'install-binary').map((a) => a.binary!.url);
  assert.ok(urls.length > 10);
  for (const u of urls) assert.doesNotMatch(u, /amd64|x86_64/, u);
  assert.ok(urls.includes('https://dl.k8s.io/release/v1.36.2/bin/linux/arm64/kubelet'));
  const x86 = await planFromFacts('w1', rendered, facts('x86_64'), noBinaries, { fetchBinaries: false, binariesFor: forArch });
  assert.ok(x86.actions.some((a) => a.binary?.url === 'https://dl.k8s.io/release/v1.36.2/bin/linux/amd64/kubelet'));
});

test('any other machine is refused with an error naming the host and its uname -m', async () => {
  for (const machine of ['armv7l', 'riscv64', 's390x', '']) {
    const e = await planFromFacts('w7', rendered, facts(machine), noBinaries, { fetchBinaries: false, binariesFor: forArch }).catch((err: unknown) => err);
    assert.ok(e instanceof UnsupportedArchError, String(e));
    assert.equal(e.host, 'w7');
    assert.equal(e.exitCode, 1);
    assert.match(e.describe(), machine ? new RegExp(`^w7: host architecture "${machine}" is not supported`) : /^w7: host architecture unknown/);
  }
});

test('without per-arch binaries an arm64 host is refused, never sent the rendered amd64 ones', async () => {
  const e = await planFromFacts('w1', rendered, facts('aarch64'), noBinaries, { fetchBinaries: false }).catch((err: unknown) => err);
  assert.ok(e instanceof UnsupportedArchError);
  assert.match(e.message, /amd64 binaries only/);
});

let lab: SshdHosts;
before(async () => {
  lab = await startSshdHosts(2, 'ar');
  // uname TEST DOUBLE: the first host reports an arm64 machine, the second a 32-bit ARM one
  const shim = (machine: string): string => `#!/bin/sh\n# uname TEST DOUBLE (test/phases/host-arch.test.ts)\n[ "$1" = -m ] && { echo ${machine}; exit 0; }\nexec /bin/uname "$@"\n`;
  await writeFile(join(lab.hosts[0]!.dir, 'bin', 'uname'), shim('aarch64'), { mode: 0o755 });
  await writeFile(join(lab.hosts[1]!.dir, 'bin', 'uname'), shim('armv7l'), { mode: 0o755 });
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache');
});
after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await lab?.stop();
});

test('plan over SSH: the host reporting aarch64 gets arm64 URLs, the armv7l host is refused by name', async () => {
  const mirrorDir = join(lab.dir, 'mirror');
  const mirror = await buildArtifactMirror(mirrorDir, [...forArch('arm64'), ...forArch('amd64')]);
  const hostList = lab.hosts.map((h) => `{ name: ${h.name}, address: 127.0.0.1, port: ${h.port} }`).join(', ');
  const file = join(lab.dir, 'cluster.yaml');
  await writeFile(file, `${spec(hostList, mirrorDir, mirror.pins)}ssh: { user: root, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }\n`);
  const r = await runCli('plan', '-f', file);
  assert.equal(r.code, 1, r.stderr);
  const [arm, v7] = [lab.hosts[0]!.name, lab.hosts[1]!.name];
  assert.match(r.stdout, new RegExp(`^${arm}:   ↓ install /usr/local/bin/kubelet from https://dl\\.k8s\\.io/release/v1\\.36\\.2/bin/linux/arm64/kubelet \\(missing\\)$`, 'm'));
  assert.doesNotMatch(r.stdout.split('\n').filter((l) => l.startsWith(`${arm}:`)).join('\n'), /amd64|x86_64/);
  assert.match(`${r.stdout}\n${r.stderr}`, new RegExp(`${v7}.*host architecture "armv7l" is not supported`));
  assert.doesNotMatch(r.stdout.split('\n').filter((l) => l.startsWith(`${v7}:`)).join('\n'), /↓ install/);
});

// --ignore-preflight-errors on the CLI: a loopback sshd host whose cgroup filesystem reads as v1
// through a `stat` TEST DOUBLE (a shim first in PATH that answers `stat -fc %T /sys/fs/cgroup` with
// tmpfs, whatever this machine runs), for Kubernetes 1.36, where the real kubelet refuses v1. doctor
// and plan block on it; with the flag they report it as an ignored warning and go on. A value that
// names no check is refused (exit 2) by every command that takes the flag, before anything runs.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { binariesFor } from '../../src/render/release-binaries.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let file: string;

before(async () => {
  lab = await startSshdHosts(1, 'ip');
  const host = lab.hosts[0]!;
  await writeFile(
    join(host.dir, 'bin', 'stat'),
    '#!/bin/sh\n# stat TEST DOUBLE (test/cli/ignore-preflight-errors.test.ts): cgroup v1\n[ "$*" = "-fc %T /sys/fs/cgroup" ] && { echo tmpfs; exit 0; }\nexec /usr/bin/stat "$@"\n',
    { mode: 0o755 },
  );
  const mirrorDir = join(lab.dir, 'mirror');
  file = join(lab.dir, 'cluster.yaml');
  // no preflight.ignoreErrors here (test/support/lab-spec.ts sets one): the flag alone decides
  const spec = (pins: Record<string, string>): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ipe }
kubernetes: { version: "1.36.2", apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port}, privateAddress: 10.0.0.1 }] } }
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
pki: { dir: ${join(lab.dir, 'pki')} }
ssh: { user: root, privateKeyPath: ${lab.privateKeyPath}, knownHostsPath: ${lab.knownHostsPath} }
artifacts: { mirror: ${mirrorDir}, checksums: ${JSON.stringify(pins)} }
`;
  const cluster = parseCluster(spec({}), file);
  const mirror = await buildArtifactMirror(mirrorDir, binariesFor(cluster, 'amd64'));
  await writeFile(file, spec(mirror.pins));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache');
});
after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await lab?.stop();
});

test('doctor blocks a cgroup v1 host under 1.36 (exit 1); with --ignore-preflight-errors=cgroup it is a warning saying so (exit 0)', async () => {
  const blocked = await runCli('doctor', '-f', file);
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(blocked.stdout, /: BLOCKING cgroup +cgroup v1 \(tmpfs\): the kubelet 1\.36 refuses to start on it .*--ignore-preflight-errors=cgroup/);
  const accepted = await runCli('doctor', '-f', file, '--ignore-preflight-errors', 'cgroup');
  assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
  assert.match(accepted.stdout, /: warning +cgroup +cgroup v1 \(tmpfs\): .*\(ignored: --ignore-preflight-errors or preflight\.ignoreErrors\)/);
  assert.match(accepted.stdout, /doctor: 1 host\(s\): 1 ready, 0 blocked/);
});

test('plan fails the host on it (exit 1); --ignore-preflight-errors=all plans it', async () => {
  const blocked = await runCli('plan', '-f', file);
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(`${blocked.stdout}\n${blocked.stderr}`, /preflight failed: cgroup: cgroup v1/);
  const accepted = await runCli('plan', '-f', file, '--ignore-preflight-errors=all');
  assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
  assert.match(accepted.stdout, /↓ install \/usr\/local\/bin\/kubelet/);
});

for (const command of ['plan', 'apply', 'up', 'doctor']) {
  test(`${command} refuses a value that names no check, with exit 2 and the list of checks`, async () => {
    const r = await runCli(command, '-f', file, '--ignore-preflight-errors', 'cgroups,swap');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--ignore-preflight-errors: no preflight check named cgroups/);
    assert.match(r.stderr, /the checks are arch, os, systemd, .*cloud-init \(or all\)/);
  });
}

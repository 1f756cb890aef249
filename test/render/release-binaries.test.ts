import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import {
  assertChecksumsKnown,
  binariesFor,
  binariesWithoutChecksum,
  hasUnresolvedVersion,
  mirroredBinaries,
  mirrorUrl,
  parseStableVersion,
  sha256FromChecksumFile,
  stableVersionUrl,
  UnresolvedKubernetesVersionError,
} from '../../src/render/release-binaries.ts';
import { parseCluster } from '../../src/spec/cluster.ts';

const seed = parseCluster(readFileSync(new URL('../../examples/seed.yaml', import.meta.url), 'utf8'), 'seed.yaml');
const modern = parseCluster(readFileSync(new URL('../../examples/digitalocean.yaml', import.meta.url), 'utf8'), 'digitalocean.yaml');

function byPath(bins: ReturnType<typeof binariesFor>): Map<string, (typeof bins)[number]> {
  return new Map(bins.map((b) => [b.path, b]));
}

test('the seed profile downloads exactly what the post downloads', () => {
  const bins = byPath(binariesFor(seed));
  assert.deepEqual(bins.get('/usr/bin/flanneld'), {
    name: 'flanneld',
    url: 'https://github.com/coreos/flannel/releases/download/v0.9.0/flanneld-amd64',
    checksumUrl: undefined,
    archiveMember: undefined,
    path: '/usr/bin/flanneld',
    mode: 0o740,
  });
  const dockerd = bins.get('/usr/bin/dockerd');
  assert.equal(dockerd?.url, 'https://download.docker.com/linux/static/stable/x86_64/docker-17.03.2-ce.tgz');
  assert.equal(dockerd?.archiveMember, 'docker/dockerd');
  assert.equal(dockerd?.checksumUrl, undefined, 'docker publishes no checksum for its static bundles');
  assert.equal(bins.get('/usr/bin/kubelet')?.url, 'https://dl.k8s.io/release/v1.8.0/bin/linux/amd64/kubelet');
  assert.equal(bins.get('/usr/bin/kube-proxy')?.checksumUrl, 'https://dl.k8s.io/release/v1.8.0/bin/linux/amd64/kube-proxy.sha256');
  assert.ok(![...bins.keys()].some((p) => p.startsWith('/opt/cni/')), 'the post runs docker with --network-plugin= (no CNI)');
});

test('the modern profile downloads containerd, runc, CNI plugins and flannel from their release pages', () => {
  const bins = byPath(binariesFor(modern, { kubernetesVersion: '1.36.2' }));
  const containerd = bins.get('/usr/local/bin/containerd');
  assert.equal(containerd?.url, 'https://github.com/containerd/containerd/releases/download/v2.1.4/containerd-2.1.4-linux-amd64.tar.gz');
  assert.equal(containerd?.checksumUrl, `${containerd?.url}.sha256sum`);
  assert.equal(containerd?.archiveMember, 'bin/containerd');
  assert.equal(bins.get('/usr/local/bin/containerd-shim-runc-v2')?.archiveMember, 'bin/containerd-shim-runc-v2');
  assert.deepEqual(
    [bins.get('/usr/local/sbin/runc')?.url, bins.get('/usr/local/sbin/runc')?.checksumUrl],
    ['https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.amd64', 'https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.sha256sum'],
  );
  const bridge = bins.get('/opt/cni/bin/bridge');
  assert.equal(bridge?.url, 'https://github.com/containernetworking/plugins/releases/download/v1.7.1/cni-plugins-linux-amd64-v1.7.1.tgz');
  assert.equal(bridge?.checksumUrl, `${bridge?.url}.sha256`);
  assert.equal(bridge?.archiveMember, './bridge');
  for (const p of ['host-local', 'loopback', 'portmap']) assert.ok(bins.has(`/opt/cni/bin/${p}`), p);
  const flannelCni = bins.get('/opt/cni/bin/flannel');
  assert.equal(flannelCni?.url, 'https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel2/cni-plugin-flannel-linux-amd64-v1.7.1-flannel2.tgz');
  assert.equal(flannelCni?.archiveMember, 'flannel-amd64');
  const flanneld = bins.get('/usr/local/bin/flanneld');
  assert.equal(flanneld?.url, 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/flannel-v0.27.4-linux-amd64.tar.gz');
  assert.equal(flanneld?.archiveMember, 'flanneld');
  assert.equal(bins.get('/usr/local/bin/kubelet')?.url, 'https://dl.k8s.io/release/v1.36.2/bin/linux/amd64/kubelet');
  assert.ok(![...bins.keys()].some((p) => p.includes('docker')));
});

test('arm64 changes every URL to the arm64 asset', () => {
  const bins = binariesFor(modern, { arch: 'arm64', kubernetesVersion: 'v1.36.2' });
  for (const b of bins) assert.doesNotMatch(b.url, /amd64|x86_64/, b.name);
  assert.equal(byPath(bins).get('/usr/local/sbin/runc')?.url.endsWith('/runc.arm64'), true);
  assert.equal(byPath(binariesFor(seed, 'arm64')).get('/usr/bin/dockerd')?.url.includes('/aarch64/'), true);
});

test('a minor-only version refuses to name release URLs until it is resolved', () => {
  assert.throws(() => binariesFor(modern), (e: unknown) => {
    assert.ok(e instanceof UnresolvedKubernetesVersionError);
    assert.ok(e instanceof InputError);
    assert.match(e.message, /1\.36 has no patch version/);
    assert.match(e.hint ?? '', /stable-1\.36\.txt/);
    return true;
  });
});

test('placeholder URLs for an unresolved minor are flagged so nothing downloads them', () => {
  const bins = binariesFor(modern, { unresolved: 'placeholder' });
  const kubelet = bins.find((b) => b.name === 'kubelet');
  assert.equal(kubelet?.url, 'https://dl.k8s.io/release/v1.36.x/bin/linux/amd64/kubelet');
  assert.equal(bins.filter(hasUnresolvedVersion).map((b) => b.name).sort().join(','), 'kube-proxy,kubelet');
  assert.equal(binariesFor(modern, { kubernetesVersion: '1.36.0' }).some(hasUnresolvedVersion), false);
});

test('a resolved version of another minor is refused', () => {
  assert.throws(() => binariesFor(modern, { kubernetesVersion: '1.35.4' }), /not a 1\.36\.<patch> release/);
  assert.throws(() => binariesFor(modern, { kubernetesVersion: '1.36' }), /not a 1\.36\.<patch> release/);
});

test('the stable file of a minor is read into a full version', () => {
  assert.equal(stableVersionUrl('1.36'), 'https://dl.k8s.io/release/stable-1.36.txt');
  assert.equal(stableVersionUrl({ major: 1, minor: 23 }), 'https://dl.k8s.io/release/stable-1.23.txt');
  assert.equal(parseStableVersion('v1.36.2\n', { major: 1, minor: 36 }), '1.36.2');
  assert.throws(() => parseStableVersion('v1.35.9\n', { major: 1, minor: 36 }), InputError);
  assert.throws(() => parseStableVersion('<html>login</html>', { major: 1, minor: 36 }), /does not name a 1\.36\.<patch> release/);
});

test('the mirror holds each upstream URL under its host and path', () => {
  const up = 'https://dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet';
  assert.equal(mirrorUrl(up, null), up);
  assert.equal(mirrorUrl(up, 'http://127.0.0.1:8080/mirror/'), 'http://127.0.0.1:8080/mirror/dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet');
  assert.equal(mirrorUrl(up, '/srv/mirror'), '/srv/mirror/dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet');
  assert.equal(mirrorUrl(up, 'file:///srv/mirror'), '/srv/mirror/dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet');
  assert.equal(mirrorUrl(stableVersionUrl('1.36'), './mirror'), './mirror/dl.k8s.io/release/stable-1.36.txt');
  const [m] = mirroredBinaries(binariesFor(seed).filter((b) => b.name === 'kubelet'), '/m');
  assert.equal(m?.url, '/m/dl.k8s.io/release/v1.8.0/bin/linux/amd64/kubelet');
  assert.equal(m?.checksumUrl, '/m/dl.k8s.io/release/v1.8.0/bin/linux/amd64/kubelet.sha256');
});

test('checksum files in each upstream format yield the digest for the right file', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  assert.equal(sha256FromChecksumFile(`${a}\n`, 'https://dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet'), a);
  const runcSums = `${a}  runc.amd64\n${b}  runc.arm64\n`;
  assert.equal(sha256FromChecksumFile(runcSums, 'https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.arm64'), b);
  assert.equal(sha256FromChecksumFile(runcSums, 'https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.riscv64'), undefined);
  assert.equal(sha256FromChecksumFile(`${b} *containerd-2.1.4-linux-amd64.tar.gz\n`, 'https://x.test/containerd-2.1.4-linux-amd64.tar.gz'), b);
  assert.equal(sha256FromChecksumFile('not a digest\n', 'https://x.test/f'), undefined);
});

test('artifacts with no published checksum must be pinned in the spec', () => {
  const bins = binariesFor(modern, { kubernetesVersion: '1.36.2' });
  const flannel = 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/flannel-v0.27.4-linux-amd64.tar.gz';
  assert.deepEqual(binariesWithoutChecksum(bins, {}).map((b) => b.url), [flannel]);
  assert.throws(() => assertChecksumsKnown(bins, {}), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /no published checksum for https:\/\/github\.com\/flannel-io\/flannel\//);
    assert.match(e.hint ?? '', /artifacts\.checksums/);
    return true;
  });
  assert.doesNotThrow(() => assertChecksumsKnown(bins, { [flannel]: 'c'.repeat(64) }));
  // the seed's docker bundle is one URL for eight binaries: named once
  assert.throws(() => assertChecksumsKnown(binariesFor(seed), {}), (e: unknown) => e instanceof InputError && (e.message.match(/docker-17\.03\.2-ce\.tgz/g) ?? []).length === 1);
});

test('a pre-release version downloads exactly that release from dl.k8s.io', () => {
  const text = readFileSync(new URL('../../examples/digitalocean.yaml', import.meta.url), 'utf8').replace(/version: "?[0-9.]+"?/, 'version: "1.30.0-rc.1"');
  const rc = parseCluster(text, 'rc.yaml');
  const kubelet = byPath(binariesFor(rc)).get('/usr/local/bin/kubelet');
  assert.equal(kubelet?.url, 'https://dl.k8s.io/release/v1.30.0-rc.1/bin/linux/amd64/kubelet');
  assert.equal(kubelet?.checksumUrl, 'https://dl.k8s.io/release/v1.30.0-rc.1/bin/linux/amd64/kubelet.sha256');
});

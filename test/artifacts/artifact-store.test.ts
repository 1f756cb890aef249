import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChecksumMismatchError, MissingChecksumError } from '../../src/artifacts/artifact-errors.ts';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { resolveKubernetesVersion } from '../../src/artifacts/resolve-kubernetes-version.ts';
import { binariesFor } from '../../src/render/release-binaries.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { buildArtifactMirror, standInScript } from '../support/artifact-mirror.ts';

const kubelet: BinarySpec = {
  name: 'kubelet',
  url: 'https://dl.k8s.io/release/v1.36.2/bin/linux/amd64/kubelet',
  checksumUrl: 'https://dl.k8s.io/release/v1.36.2/bin/linux/amd64/kubelet.sha256',
  path: '/usr/local/bin/kubelet',
  mode: 0o755,
};
const tgz = 'https://github.com/containerd/containerd/releases/download/v2.1.4/containerd-2.1.4-linux-amd64.tar.gz';
const containerd: BinarySpec = { name: 'containerd', url: tgz, checksumUrl: `${tgz}.sha256sum`, archiveMember: 'bin/containerd', path: '/usr/local/bin/containerd', mode: 0o755 };
const ctr: BinarySpec = { name: 'ctr', url: tgz, checksumUrl: `${tgz}.sha256sum`, archiveMember: 'bin/ctr', path: '/usr/local/bin/ctr', mode: 0o755 };
const flanneld: BinarySpec = { name: 'flanneld', url: 'https://github.com/coreos/flannel/releases/download/v0.9.0/flanneld-amd64', path: '/usr/bin/flanneld', mode: 0o740 };
const broken: BinarySpec = { ...kubelet, name: 'kube-proxy', url: kubelet.url.replace('kubelet', 'kube-proxy'), checksumUrl: kubelet.checksumUrl!.replace('kubelet', 'kube-proxy') };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-artifacts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

test('binaries come from the mirror verified against published checksums, archive members extracted', async () => {
  const mirror = await buildArtifactMirror(join(dir, 'm1'), [kubelet, containerd, ctr, flanneld]);
  const cacheDir = join(dir, 'cache1');
  const store = new ArtifactStore({ mirror: mirror.dir, pins: mirror.pins, cacheDir });
  const k = await store.binary(kubelet);
  assert.equal(await readFile(k.localPath, 'utf8'), standInScript('kubelet'));
  assert.equal(k.sha256, sha(standInScript('kubelet')));
  assert.equal(await store.knownInstalledDigest(kubelet), k.sha256);
  assert.equal(await store.knownInstalledDigest(containerd), undefined, 'member digest unknown before the archive is fetched');
  const c = await store.binary(containerd);
  assert.equal(await readFile(c.localPath, 'utf8'), standInScript('containerd'));
  assert.equal(c.sha256, sha(standInScript('containerd')));
  assert.equal((await store.binary(ctr)).sha256, sha(standInScript('ctr')));
  assert.equal(await store.knownInstalledDigest(containerd), c.sha256);
  assert.equal((await store.binary(flanneld)).sha256, sha(standInScript('flanneld')), 'pinned checksum accepted');
  assert.equal((await readdir(join(cacheDir, 'sha256'))).length, 3, 'one cached file per artifact (the archive once)');

  // a new store over the same cache needs no mirror at all
  const offline = new ArtifactStore({ mirror: join(dir, 'nowhere'), pins: { [kubelet.url]: k.sha256 }, cacheDir });
  assert.equal((await offline.binary(kubelet)).localPath, k.localPath);
});

test('a checksum mismatch fails and caches nothing', async () => {
  const mirror = await buildArtifactMirror(join(dir, 'm2'), [broken], { corrupt: [broken.url] });
  const cacheDir = join(dir, 'cache2');
  const store = new ArtifactStore({ mirror: mirror.dir, pins: {}, cacheDir });
  const e = await store.binary(broken).catch((err: unknown) => err);
  assert.ok(e instanceof ChecksumMismatchError, String(e));
  assert.match(e.message, /kube-proxy: sha256 mismatch \(expected [0-9a-f]{64} from the published checksum, got [0-9a-f]{64}\)/);
  assert.deepEqual(await readdir(join(cacheDir, 'sha256')), []);
});

test('an artifact with no published checksum and no pin is refused', async () => {
  const store = new ArtifactStore({ mirror: join(dir, 'm1'), pins: {}, cacheDir: join(dir, 'cache3') });
  const e = await store.binary(flanneld).catch((err: unknown) => err);
  assert.ok(e instanceof MissingChecksumError);
  assert.match(e.describe(), /artifacts\.checksums/);
});

test('a minor-only version resolves through the mirror copy of stable-<minor>.txt', async () => {
  const m = join(dir, 'm4');
  await buildArtifactMirror(m, [], { stable: { minor: '1.36', version: 'v1.36.4' } });
  const cluster = parseCluster(
    'apiVersion: kubewright.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nkubernetes: {version: "1.36", apiServer: "https://api.t:6443"}\nprovider: {static: {hosts: [{name: w1, address: 127.0.0.1}]}}\n',
  );
  const store = new ArtifactStore({ mirror: m, pins: {}, cacheDir: join(dir, 'cache4') });
  const v = await resolveKubernetesVersion(cluster, store);
  assert.equal(v, '1.36.4');
  const filled = binariesFor(cluster, { kubernetesVersion: v }).find((b) => b.name === kubelet.name);
  assert.equal(filled?.url, 'https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet');
  assert.equal(filled?.checksumUrl, 'https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet.sha256');
});

// The release-artifact catalogue: which upstream files a worker needs (for both profiles), where
// each is published, where its checksum is published, and where it is installed. Pure: no I/O.
//
// Kubernetes binaries need a full patch version in their URL. A spec may give only a minor
// ("1.36"); the caller resolves it from `stableVersionUrl(minor)` (dl.k8s.io/release/stable-1.36.txt)
// and passes it as `kubernetesVersion`. Asked for URLs without one, `binariesFor` throws
// UnresolvedKubernetesVersionError, unless `unresolved: 'placeholder'` is passed (render/plan only):
// then the URLs carry `v1.36.x`, which `hasUnresolvedVersion` detects before anything downloads.
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import { formatKubeVersion, parseKubeVersion } from '../spec/version.ts';
import type { BinarySpec } from './types.ts';

export type Arch = 'amd64' | 'arm64';

export interface BinariesOptions {
  arch?: Arch | undefined;
  /** the resolved Kubernetes version, e.g. "1.36.2" or "v1.36.2"; its minor must match the spec's */
  kubernetesVersion?: string | undefined;
  /** what to do when neither the spec nor `kubernetesVersion` gives a patch: throw (default) or use `v<minor>.x` */
  unresolved?: 'throw' | 'placeholder' | undefined;
}

/** Where binaries land on a worker (the seed profile keeps the post's /usr/bin). */
export const installPaths = {
  seed: { bin: '/usr/bin', sbin: '/usr/bin' },
  modern: { bin: '/usr/local/bin', sbin: '/usr/local/sbin' },
} as const;

export const CNI_BIN_DIR = '/opt/cni/bin';

/** The CNI plugins the flannel conflist delegates to (bridge + host-local IPAM, portmap) and containerd's loopback. */
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

/** The patch part that marks an unresolved Kubernetes version in a placeholder URL. */
export const UNRESOLVED_PATCH = 'x';

export class UnresolvedKubernetesVersionError extends InputError {
  constructor(minor: string) {
    super(`artifacts: kubernetes.version ${minor} has no patch version, so the release URLs are unknown`, {
      hint: `resolve it from ${stableVersionUrl(minor)} (or the mirror's copy) first, or write a full version such as "${minor}.0" in kubernetes.version`,
    });
  }
}

/** The file that names the newest patch release of a minor, e.g. https://dl.k8s.io/release/stable-1.36.txt. */
export function stableVersionUrl(minor: string | { major: number; minor: number }): string {
  const text = typeof minor === 'string' ? minor.replace(/^v/, '').split('.').slice(0, 2).join('.') : `${minor.major}.${minor.minor}`;
  return `https://dl.k8s.io/release/stable-${text}.txt`;
}

/**
 * Reads the body of stable-<minor>.txt ("v1.36.2\n") and returns "1.36.2". Throws when it is not a
 * version of the expected minor (a captive portal page, a wrong mirror file).
 */
export function parseStableVersion(body: string, minor: { major: number; minor: number }): string {
  const v = parseKubeVersion(body.trim());
  if (!v || v.patch === undefined || v.major !== minor.major || v.minor !== minor.minor) {
    const shown = body.trim().slice(0, 40);
    throw new InputError(`artifacts: ${stableVersionUrl(minor)} does not name a ${minor.major}.${minor.minor}.<patch> release (got ${JSON.stringify(shown)})`, {
      hint: 'check artifacts.mirror, or write a full version such as "1.36.2" in kubernetes.version',
    });
  }
  return formatKubeVersion(v);
}

function kubernetesTag(cluster: Cluster, opts: BinariesOptions): string {
  const spec = cluster.kubernetes.version;
  const minor = `${spec.major}.${spec.minor}`;
  if (opts.kubernetesVersion !== undefined) {
    const v = parseKubeVersion(opts.kubernetesVersion);
    if (!v || v.patch === undefined || v.major !== spec.major || v.minor !== spec.minor) {
      throw new InputError(`artifacts: resolved Kubernetes version ${JSON.stringify(opts.kubernetesVersion)} is not a ${minor}.<patch> release`, {
        hint: `pass the content of ${stableVersionUrl(minor)}, or a full version of the spec's minor ${minor}`,
      });
    }
    return `v${formatKubeVersion(v)}`;
  }
  if (spec.patch !== undefined) return `v${formatKubeVersion(spec)}`;
  if (opts.unresolved === 'placeholder') return `v${minor}.${UNRESOLVED_PATCH}`;
  throw new UnresolvedKubernetesVersionError(minor);
}

/** True when a binary's URL still carries the `v1.36.x` placeholder (resolve the version first). */
export function hasUnresolvedVersion(b: BinarySpec): boolean {
  return /\/release\/v\d+\.\d+\.x\//.test(b.url);
}

function withV(version: string): string {
  return version.startsWith('v') ? version : `v${version}`;
}

function bare(version: string): string {
  return version.replace(/^v/, '');
}

function majorMinor(version: string): [number, number] {
  const [maj, min] = bare(version).split(/[.-]/);
  return [Number(maj), Number(min)];
}

type KubernetesBinary = 'kubelet' | 'kube-proxy' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

function kubernetesBinaries(tag: string, arch: Arch, dir: string, names: readonly KubernetesBinary[] = ['kubelet', 'kube-proxy']): BinarySpec[] {
  // dl.k8s.io publishes <binary>.sha256 beside every binary
  return names.map((name) => {
    const url = `https://dl.k8s.io/release/${tag}/bin/linux/${arch}/${name}`;
    return { name, url, checksumUrl: `${url}.sha256`, archiveMember: undefined, path: `${dir}/${name}`, mode: 0o755 };
  });
}

function flannelBinary(version: string, arch: Arch, dir: string, mode: number): BinarySpec {
  const [major, minor] = majorMinor(version);
  // flannel moved from coreos/ to flannel-io/ with v0.14; older releases (the post's v0.9.0) are
  // fetched as the plain flanneld-<arch> asset exactly as the post does. No checksum is published.
  if (major === 0 && minor < 14) {
    return {
      name: 'flanneld',
      url: `https://github.com/coreos/flannel/releases/download/${withV(version)}/flanneld-${arch}`,
      checksumUrl: undefined,
      archiveMember: undefined,
      path: `${dir}/flanneld`,
      mode,
    };
  }
  // the release tarball holds flanneld (renamed from flanneld-<arch> by flannel's Makefile), mk-docker-opts.sh, README.md
  return {
    name: 'flanneld',
    url: `https://github.com/flannel-io/flannel/releases/download/${withV(version)}/flannel-${withV(version)}-linux-${arch}.tar.gz`,
    checksumUrl: undefined,
    archiveMember: 'flanneld',
    path: `${dir}/flanneld`,
    mode,
  };
}

function dockerBinaries(version: string, arch: Arch, dir: string): BinarySpec[] {
  // docker's static bundles use the kernel's arch names; no checksum file is published (pin one in artifacts.checksums)
  const darch = arch === 'amd64' ? 'x86_64' : 'aarch64';
  const url = `https://download.docker.com/linux/static/stable/${darch}/docker-${bare(version)}.tgz`;
  // the post: `cp docker/docker* /usr/bin` — the 17.03 bundle's members
  const members = ['docker', 'dockerd', 'docker-containerd', 'docker-containerd-ctr', 'docker-containerd-shim', 'docker-init', 'docker-proxy', 'docker-runc'];
  return members.map((m) => ({ name: m, url, checksumUrl: undefined, archiveMember: `docker/${m}`, path: `${dir}/${m}`, mode: 0o755 }));
}

function containerdBinaries(cluster: Cluster, arch: Arch, bin: string, sbin: string): BinarySpec[] {
  const c = bare(cluster.versions.containerd);
  const tarball = `https://github.com/containerd/containerd/releases/download/v${c}/containerd-${c}-linux-${arch}.tar.gz`;
  const fromTarball = (['containerd', 'containerd-shim-runc-v2', 'ctr'] as const).map((name) => ({
    name,
    url: tarball,
    checksumUrl: `${tarball}.sha256sum`,
    archiveMember: `bin/${name}`,
    path: `${bin}/${name}`,
    mode: 0o755,
  }));
  const runcVersion = withV(cluster.versions.runc);
  const runcBase = `https://github.com/opencontainers/runc/releases/download/${runcVersion}`;
  // runc.sha256sum lists every arch's binary: the line for runc.<arch> applies
  const runc: BinarySpec = {
    name: 'runc',
    url: `${runcBase}/runc.${arch}`,
    checksumUrl: `${runcBase}/runc.sha256sum`,
    archiveMember: undefined,
    path: `${sbin}/runc`,
    mode: 0o755,
  };
  const cniVersion = withV(cluster.versions.cniPlugins);
  const cniTgz = `https://github.com/containernetworking/plugins/releases/download/${cniVersion}/cni-plugins-linux-${arch}-${cniVersion}.tgz`;
  // the tgz is made with `tar -C dir ... .`, so members are ./bridge, ./portmap, ...
  const cni = CNI_PLUGINS.map((p) => ({
    name: `cni-${p}`,
    url: cniTgz,
    checksumUrl: `${cniTgz}.sha256`,
    archiveMember: `./${p}`,
    path: `${CNI_BIN_DIR}/${p}`,
    mode: 0o755,
  }));
  const fc = withV(cluster.versions.flannelCniPlugin);
  const fcTgz = `https://github.com/flannel-io/cni-plugin/releases/download/${fc}/cni-plugin-flannel-linux-${arch}-${fc}.tgz`;
  // flannel-io/cni-plugin scripts/package.sh: the tgz holds flannel-<arch>; <tgz>.sha256 beside it
  const flannelCni: BinarySpec = {
    name: 'cni-flannel',
    url: fcTgz,
    checksumUrl: `${fcTgz}.sha256`,
    archiveMember: `flannel-${arch}`,
    path: `${CNI_BIN_DIR}/flannel`,
    mode: 0o755,
  };
  return [...fromTarball, runc, ...cni, flannelCni];
}

/**
 * Every binary a worker of this cluster downloads, in install order: flanneld, the container
 * runtime (docker's bundle, or containerd + runc + CNI plugins), kubelet, kube-proxy.
 * Accepts the arch directly (`binariesFor(c, 'arm64')`) or options.
 */
export function binariesFor(cluster: Cluster, archOrOptions: Arch | BinariesOptions = {}): BinarySpec[] {
  const opts: BinariesOptions = typeof archOrOptions === 'string' ? { arch: archOrOptions } : archOrOptions;
  const arch = opts.arch ?? 'amd64';
  const dirs = installPaths[cluster.profile];
  const tag = kubernetesTag(cluster, opts);
  // the post: `chmod 740 /usr/bin/flanneld`
  const flannel = flannelBinary(cluster.versions.flannel, arch, dirs.bin, cluster.profile === 'seed' ? 0o740 : 0o755);
  const runtime = cluster.runtime === 'docker'
    ? dockerBinaries(cluster.versions.docker, arch, dirs.bin)
    : containerdBinaries(cluster, arch, dirs.bin, dirs.sbin);
  return [flannel, ...runtime, ...kubernetesBinaries(tag, arch, dirs.bin)];
}

/** The control-plane binaries a master downloads: kube-apiserver, kube-controller-manager, kube-scheduler. */
export function controlPlaneBinariesFor(cluster: Cluster, opts: BinariesOptions = {}): BinarySpec[] {
  return kubernetesBinaries(kubernetesTag(cluster, opts), opts.arch ?? 'amd64', installPaths[cluster.profile].bin, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
}

/**
 * Where an upstream URL is found in a mirror (DESIGN.md): `<mirror>/<host>/<path>`. The mirror
 * is an http(s) base URL or a directory (returned as a path; a relative directory stays relative,
 * resolve it against the spec's folder). Without a mirror the upstream URL is returned unchanged.
 */
export function mirrorUrl(upstreamUrl: string, mirror: string | null | undefined): string {
  if (mirror === null || mirror === undefined || mirror === '') return upstreamUrl;
  const u = new URL(upstreamUrl);
  const rest = `${u.host}${u.pathname}`;
  if (/^https?:\/\//i.test(mirror)) return `${mirror.replace(/\/+$/, '')}/${rest}`;
  const dir = mirror.startsWith('file://') ? decodeURIComponent(new URL(mirror).pathname) : mirror;
  return `${dir.replace(/\/+$/, '')}/${rest}`;
}

/** The same binaries fetched from a mirror: url and checksumUrl both mapped by `mirrorUrl`. */
export function mirroredBinaries(binaries: readonly BinarySpec[], mirror: string | null | undefined): BinarySpec[] {
  return binaries.map((b) => ({
    ...b,
    url: mirrorUrl(b.url, mirror),
    checksumUrl: b.checksumUrl === undefined ? undefined : mirrorUrl(b.checksumUrl, mirror),
  }));
}

/**
 * The sha256 for `artifactUrl` from a published checksum file: dl.k8s.io's `.sha256` holds the bare
 * digest; containerd's `.sha256sum`, runc's `runc.sha256sum` (every arch) and the CNI `.sha256`
 * files hold `<digest>  <file name>` lines. Returns undefined when no line matches.
 */
export function sha256FromChecksumFile(body: string, artifactUrl: string): string | undefined {
  const file = new URL(artifactUrl).pathname.split('/').pop() ?? '';
  const lines = body.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  for (const line of lines) {
    const [digest, name] = line.split(/\s+/);
    if (digest === undefined || !/^[a-fA-F0-9]{64}$/.test(digest)) continue;
    if (name === undefined ? lines.length === 1 : name.replace(/^\*/, '').split('/').pop() === file) return digest.toLowerCase();
  }
  return undefined;
}

/**
 * Binaries whose download nothing can verify: no published checksum and no pin in
 * `artifacts.checksums` (keyed by the upstream URL). Apply refuses these unless told to skip checks.
 */
export function binariesWithoutChecksum(binaries: readonly BinarySpec[], pins: Readonly<Record<string, string>>): BinarySpec[] {
  return binaries.filter((b) => b.checksumUrl === undefined && pins[b.url] === undefined);
}

/** Throws (exit 2) naming every artifact that has neither a published checksum nor a pin. */
export function assertChecksumsKnown(binaries: readonly BinarySpec[], pins: Readonly<Record<string, string>>): void {
  const urls = [...new Set(binariesWithoutChecksum(binaries, pins).map((b) => b.url))];
  if (urls.length === 0) return;
  throw new InputError(`artifacts: no published checksum for ${urls.join(', ')}`, {
    hint: `pin each in the spec under artifacts.checksums ("<url>": <sha256 hex>), or pass --insecure-skip-checksum`,
  });
}

/**
 * etcd and etcdctl for an etcd member, from etcd's GitHub release tarball (members
 * `etcd-v<ver>-linux-<arch>/etcd` and `/etcdctl`). Releases from 3.4 on publish SHA256SUMS beside
 * the assets (one line per asset); older ones (the seed's 3.2.8, from coreos/etcd as Kubernetes
 * The Hard Way fetched it) are pinned in artifacts.checksums.
 */
export function etcdBinariesFor(cluster: Cluster, arch: Arch = 'amd64'): BinarySpec[] {
  const v = withV(cluster.versions.etcd);
  const [major, minor] = majorMinor(v);
  const published = major > 3 || (major === 3 && minor >= 4);
  const base = `https://github.com/${published ? 'etcd-io' : 'coreos'}/etcd/releases/download/${v}`;
  const url = `${base}/etcd-${v}-linux-${arch}.tar.gz`;
  return (['etcd', 'etcdctl'] as const).map((name) => ({
    name,
    url,
    checksumUrl: published ? `${base}/SHA256SUMS` : undefined,
    archiveMember: `etcd-${v}-linux-${arch}/${name}`,
    path: `${ETCD_BIN_DIR}/${name}`,
    mode: 0o755,
  }));
}

/** Where etcd's binaries land on a member, in both profiles (Kubernetes The Hard Way's /usr/local/bin). */
export const ETCD_BIN_DIR = '/usr/local/bin';

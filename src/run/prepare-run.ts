// Everything `plan` and `apply` need before touching a host: the hosts (from the provider), the
// desired state (rendered), binaries with the Kubernetes version resolved, the artifact store,
// and how to connect.
import { ArtifactStore } from '../artifacts/artifact-store.ts';
import { artifactCacheDir } from '../artifacts/cache-dir.ts';
import { ArtifactLock, lockfilePathFor } from '../artifacts/lockfile.ts';
import { assertTrustedMirror } from '../artifacts/mirror-trust.ts';
import type { Executor } from '../exec/executor.ts';
import type { Host } from '../spec/host.ts';
import { type Arch, binariesFor } from '../render/release-binaries.ts';
import { renderCluster } from '../render/cluster.ts';
import type { BinarySpec, RenderedFile } from '../render/types.ts';
import type { Cluster } from '../spec/cluster.ts';
import { formatKubeVersion } from '../spec/version.ts';
import { connectHost, sshOptionsFor } from './connect.ts';
import { specPath } from '../spec/spec-path.ts';
import { resolveRenderInputs, type ResolveOptions } from './resolve.ts';
import { connectAndRotate, hostsToRotate, readRotationState } from './rotate-host-key.ts';
import type { HostTarget } from './run-hosts.ts';
import type { IgnoredPreflightErrors, PreflightRequirements } from '../phases/preflight.ts';

export interface PrepareOptions {
  mode: 'plan' | 'apply';
  acceptNewHostKeys: boolean;
  cacheDir?: string | undefined;
  /** the hosts to work on: providerFor(cluster).recorded() for apply, plan().hosts for plan, ensure().hosts for up */
  hosts: Host[];
  /** file holding the read-only DigitalOcean token for etcd-lookup (etcd.discovery.digitaloceanTag) */
  lookupTokenFile?: string | undefined;
  /** retry hosts whose sshd is not up yet for this long (0: fail at once) */
  waitForSshMs?: number | undefined;
  /** how long one SSH connection (TCP and handshake) may take (default 20 s) */
  connectTimeoutMs?: number | undefined;
  /** inputs the caller settled already (`up`: the PKI it issued, the token it read before creating hosts) */
  settled?: ResolveOptions['settled'];
  /** the DigitalOcean API for the etcd members listing (`up`/`plan --api-url`) */
  digitalocean?: ResolveOptions['digitalocean'];
  /** hosts the provider created in this run (`up`): their keys arrive through cloud-init, see ConnectOptions.newHost */
  newHosts?: ReadonlySet<string> | undefined;
  /** --ignore-preflight-errors: checks whose blocking findings are accepted knowingly */
  ignorePreflightErrors?: IgnoredPreflightErrors | undefined;
}

export interface PreparedRun {
  targets: HostTarget[];
  store: ArtifactStore;
  /** the spec's artifact lockfile (apply writes first fetches to it) */
  lock: ArtifactLock;
  connect(h: Host): Promise<Executor>;
  /** the rendered cluster-wide files (DNS addon manifests, flannel network config) */
  clusterFiles: RenderedFile[];
  /** the Kubernetes version binaries come from, when the spec named only a minor */
  resolvedKubernetesVersion: string | undefined;
  /** the Kubernetes version the kubelet will report (e.g. 1.36.2); undefined when plan could not resolve it offline */
  kubernetesVersion: string | undefined;
  notes: string[];
  /** plan --accept-new-host-keys: keys of hosts not in known_hosts, trusted for this run only; apply and up pin them */
  newHostKeys: { host: string; keyType: string; fingerprint: string }[];
}

/** What every host of the cluster is held to by the preflight checks. */
export function preflightRequirements(cluster: Cluster, ignoreErrors?: IgnoredPreflightErrors): PreflightRequirements {
  // the spec's preflight.ignoreErrors and the flag add up, as kubeadm's config and flag do
  const fromSpec = cluster.preflight.ignoreErrors;
  const all = ignoreErrors === 'all' || fromSpec.includes('all');
  const names = new Set([...(ignoreErrors === 'all' ? [] : (ignoreErrors ?? [])), ...fromSpec.filter((n) => n !== 'all')]);
  return { kubernetes: cluster.kubernetes.version, profile: cluster.profile, ignoreErrors: all ? 'all' : names.size > 0 ? names : undefined };
}

export async function prepareRun(cluster: Cluster, opts: PrepareOptions): Promise<PreparedRun> {
  const hosts = opts.hosts;
  const newHostKeys: PreparedRun['newHostKeys'] = [];
  const mirror = cluster.artifacts.mirror && !/^https?:\/\//i.test(cluster.artifacts.mirror) ? specPath(cluster, cluster.artifacts.mirror.replace(/^file:\/\//, '')) : cluster.artifacts.mirror;
  // plan reads the lockfile; apply also records what it fetches first
  const lock = await ArtifactLock.load(lockfilePathFor(cluster.sourceFile), { persist: opts.mode === 'apply' });
  const store = new ArtifactStore({ mirror, pins: cluster.artifacts.checksums, cacheDir: opts.cacheDir ?? artifactCacheDir(), lock });
  const { input, notes } = await resolveRenderInputs(cluster, hosts, { mode: opts.mode, store, lookupTokenFile: opts.lookupTokenFile, settled: opts.settled, digitalocean: opts.digitalocean });
  const rendered = renderCluster(input);
  const kubernetesVersion = input.kubernetesVersion;
  // every host of a cluster installs the same binaries; which build depends on the arch gather reports
  const byArch = new Map<Arch, BinarySpec[]>();
  const binariesForArch = (arch: Arch): BinarySpec[] => {
    let list = byArch.get(arch);
    if (!list) byArch.set(arch, (list = binariesFor(cluster, { arch, kubernetesVersion, unresolved: opts.mode === 'plan' ? 'placeholder' : 'throw' })));
    return list;
  };
  for (const arch of ['amd64', 'arm64'] as const) store.want(binariesForArch(arch));
  assertTrustedMirror(mirror, lock, cluster.artifacts.checksums, [binariesForArch('amd64'), binariesForArch('arm64')]);
  // control-plane and etcd hosts are not rendered here (ensureEtcdCluster and the control plane's own steps own them)
  const preflight = preflightRequirements(cluster, opts.ignorePreflightErrors);
  const targets: HostTarget[] = hosts.flatMap((host) => {
    const desired = rendered.hosts.get(host.name);
    return desired ? [{ host, desired, binariesFor: binariesForArch, preflight }] : [];
  });
  // DigitalOcean and Terraform hosts were provisioned with a host key that others can read (metadata, tfstate)
  const rotation = await readRotationState(cluster);
  const toRotate = hostsToRotate(rotation, hosts);
  if (opts.mode === 'plan' && toRotate.length > 0) notes.push(`host keys from user_data will be replaced by keys generated on the host at the next apply/up: ${toRotate.join(', ')}`);
  // the SSH key is read only when there is a host to reach (a DigitalOcean plan may have none yet)
  const ssh = targets.length > 0 ? await sshOptionsFor(cluster, opts.acceptNewHostKeys) : undefined;
  return {
    targets,
    clusterFiles: rendered.cluster,
    store,
    lock,
    connect: async (h) => {
      // plan changes nothing, known_hosts included: a new key is only reported
      const base = { ...(ssh ?? (await sshOptionsFor(cluster, opts.acceptNewHostKeys))), recordNewHostKeys: opts.mode !== 'plan', waitForSshMs: opts.waitForSshMs, connectTimeoutMs: opts.connectTimeoutMs, newHost: opts.newHosts?.has(h.name) };
      // apply: the first verified connection replaces a key that came through user_data
      const x = opts.mode === 'apply' ? await connectAndRotate(cluster, h, base, rotation) : await connectHost(h, base);
      if (x.unrecordedHostKey) newHostKeys.push({ host: h.name, ...x.unrecordedHostKey });
      return x;
    },
    newHostKeys,
    resolvedKubernetesVersion: cluster.kubernetes.version.patch === undefined ? kubernetesVersion : undefined,
    // a spec naming a full version resolves nothing: it is the version
    kubernetesVersion: kubernetesVersion ?? (cluster.kubernetes.version.patch !== undefined ? formatKubeVersion(cluster.kubernetes.version) : undefined),
    notes,
  };
}

// The seed profile (the post, reproduced): every file one worker gets, its units in start order
// (etcd-lookup → flanneld → docker → public_ip → kubelet → kube-proxy) and what restarts each.
import type { Host } from '../../spec/host.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { parseIPv4 } from '../../spec/ipv4.ts';
import { binariesFor } from '../release-binaries.ts';
import { DIGITALOCEAN_TOKEN_PATH, etcdLookupUnitSource, renderEtcdLookup } from '../etcd-lookup.ts';
import { deriveUnitReads, type UnitSource } from '../unit-reads.ts';
import { renderKubeconfig } from '../kubeconfig.ts';
import type { BinarySpec, RenderedFile, RenderedHost, RenderedUnit, RenderInput } from '../types.ts';
import { credentialPaths, renderCredentialFiles, type CredentialPaths } from '../credential-files.ts';
import { renderSeedDockerUnit } from './docker-unit.ts';
import { renderSeedFlanneldUnit } from './flanneld-unit.ts';
import { renderSeedKubeProxyUnit } from './kube-proxy-unit.ts';
import { renderSeedKubeletUnit } from './kubelet-unit.ts';
import { seedPaths } from './paths.ts';
import { renderPublicIpScript, renderPublicIpUnit } from './public-ip.ts';
import { assertRenderable } from '../../spec/profile-rules.ts';

/** Where this profile places the credential files */
const seedCredentials: CredentialPaths = {
  kubeCa: seedPaths.kubeCa, kubeletCert: seedPaths.kubeletCert, kubeletKey: seedPaths.kubeletKey,
  etcdCa: seedPaths.etcdCa, etcdClientCert: seedPaths.etcdClientCert, etcdClientKey: seedPaths.etcdClientKey,
};

const file = (path: string, contents: string, mode = 0o644): RenderedFile => ({ path, mode, contents });

/** The post's kube-config.yml: cluster `kubernetes`, context and user `kubelet`, certificate paths. */
export function renderSeedKubeconfig(apiServer: string): string {
  return renderKubeconfig({
    clusterName: 'kubernetes',
    server: apiServer,
    user: 'kubelet',
    ca: { path: seedPaths.kubeCa },
    client: { certPath: seedPaths.kubeletCert, keyPath: seedPaths.kubeletKey },
  });
}

/** Everything of a seed worker that does not depend on the host (all of it but the certificates). */
interface SeedNodeTemplate {
  lookup: { files: RenderedFile[]; unit: RenderedUnit };
  binaries: BinarySpec[];
  beforeFlannelCerts: RenderedFile[];
  beforeKubeletCerts: RenderedFile[];
  afterKubeletCerts: RenderedFile[];
  units: RenderedUnit[];
}

// Rendering a seed node is the same for every host of a cluster: compute it once per Cluster object
// (a WeakMap, so nothing outlives the cluster and the function stays pure to its callers).
const templates = new WeakMap<Cluster, Map<string, SeedNodeTemplate>>();

function seedNodeTemplate(cluster: Cluster, kubernetesVersion: string | undefined): SeedNodeTemplate {
  const perVersion = templates.get(cluster) ?? new Map<string, SeedNodeTemplate>();
  templates.set(cluster, perVersion);
  const cached = perVersion.get(kubernetesVersion ?? '');
  if (cached) return cached;
  const lookup = renderEtcdLookup(cluster);
  // plan and apply resolve a minor-only version first (run/resolve.ts); `render` alone shows `v1.23.x` URLs
  const binaries = binariesFor(cluster, { kubernetesVersion, unresolved: 'placeholder' });

  const flanneldUnit = file(seedPaths.flanneldUnit, renderSeedFlanneldUnit(cluster, lookup.unit.name));
  const dockerUnit = file(seedPaths.dockerUnit, renderSeedDockerUnit(cluster));
  const publicIpScript = file(seedPaths.publicIpScript, renderPublicIpScript(), 0o755);
  const publicIpUnit = file(seedPaths.publicIpUnit, renderPublicIpUnit());
  const kubeletUnit = file(seedPaths.kubeletUnit, renderSeedKubeletUnit(cluster));
  const kubeconfig = file(seedPaths.kubeconfig, renderSeedKubeconfig(cluster.kubernetes.apiServer));
  const kubeProxyUnit = file(seedPaths.kubeProxyUnit, renderSeedKubeProxyUnit(cluster));

  // what each unit reads is derived per host from the rendered texts (unit-reads.ts)
  const sources: UnitSource[] = [
    etcdLookupUnitSource,
    { name: 'flanneld.service', roots: [flanneldUnit.path] },
    // dockerd runs its helpers (docker-containerd, docker-runc, ...) by name from PATH: no text names them
    { name: 'docker.service', roots: [dockerUnit.path], unnamedReads: binaries.map((b) => b.path).filter((p) => /^\/usr\/bin\/docker-/.test(p)) },
    { name: 'public_ip.service', roots: [publicIpUnit.path] },
    { name: 'kubelet.service', roots: [kubeletUnit.path] },
    { name: 'kube-proxy.service', roots: [kubeProxyUnit.path] },
  ];
  // no per-node file names a path of its own (the certificates are placed at fixed paths), so the
  // graph is derived once per cluster
  const placed = [...credentialPaths(seedCredentials), ...(lookup.unit.dependsOn.includes(DIGITALOCEAN_TOKEN_PATH) ? [DIGITALOCEAN_TOKEN_PATH] : [])];
  const units = deriveUnitReads(sources, [...lookup.files, flanneldUnit, dockerUnit, publicIpScript, publicIpUnit, kubeletUnit, kubeconfig, kubeProxyUnit], binaries, placed);
  const t: SeedNodeTemplate = {
    lookup,
    binaries,
    beforeFlannelCerts: [...lookup.files, flanneldUnit],
    beforeKubeletCerts: [dockerUnit, publicIpScript, publicIpUnit, kubeletUnit, kubeconfig],
    afterKubeletCerts: [kubeProxyUnit],
    units,
  };
  perVersion.set(kubernetesVersion ?? '', t);
  return t;
}

// callers get their own objects, so changing one host's file never changes another's
const copyFiles = (fs: readonly RenderedFile[]): RenderedFile[] => fs.map((f) => ({ ...f }));

export function renderSeedHost(input: RenderInput, host: Host): RenderedHost {
  const { cluster, credentials } = input;
  assertRenderable(cluster);
  const t = seedNodeTemplate(cluster, input.kubernetesVersion);
  const creds = credentials ? renderCredentialFiles(credentials, host.name, seedCredentials) : undefined;
  // a host whose public IPv4 the provider knows (static hosts) gets it baked into public_ip
  const known = host.publicAddress !== undefined && parseIPv4(host.publicAddress) !== undefined ? host.publicAddress : undefined;
  const beforeKubeletCerts = copyFiles(t.beforeKubeletCerts).map((f) =>
    f.path === seedPaths.publicIpScript && known ? { ...f, contents: renderPublicIpScript(known) } : f,
  );
  const files: RenderedFile[] = [
    ...copyFiles(t.beforeFlannelCerts),
    ...(creds?.flannel ?? []),
    ...beforeKubeletCerts,
    ...(creds?.kubelet ?? []),
    ...copyFiles(t.afterKubeletCerts),
  ];
  return {
    name: host.name,
    files,
    units: t.units.map((u) => ({ name: u.name, dependsOn: [...u.dependsOn] })),
    binaries: t.binaries.map((b) => ({ ...b })),
  };
}

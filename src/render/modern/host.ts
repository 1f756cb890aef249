// The modern profile: every file one worker gets, its units in start order
// (kernel modules and sysctls → etcd-lookup → flanneld → containerd → kubelet, kube-proxy) and what
// restarts each.
import type { Host } from '../../spec/host.ts';
import { binariesFor } from '../release-binaries.ts';
import { DIGITALOCEAN_TOKEN_PATH, etcdLookupUnitSource, renderEtcdLookup } from '../etcd-lookup.ts';
import { deriveUnitReads, type UnitSource } from '../unit-reads.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { nodeName } from '../../spec/node-name.ts';
import type { BinarySpec, RenderedFile, RenderedHost, RenderedUnit, RenderInput } from '../types.ts';
import { renderContainerdConfig } from './containerd-config.ts';
import { renderContainerdUnit } from './containerd-unit.ts';
import { credentialPaths, renderCredentialFiles, type CredentialPaths } from '../credential-files.ts';
import { renderFlannelConflist } from './flannel-conflist.ts';
import { renderModernFlanneldUnit } from './flanneld-unit.ts';
import { MODULES_LOAD_PATH, MODULES_LOAD_UNIT, renderModulesLoad, renderSysctl, SYSCTL_PATH, SYSCTL_UNIT } from './kernel-settings.ts';
import { renderKubeProxyConfig } from './kube-proxy-config.ts';
import { renderModernKubeProxyUnit } from './kube-proxy-unit.ts';
import { renderKubeletConfig } from './kubelet-config.ts';
import { renderModernKubeletUnit } from './kubelet-unit.ts';
import { renderKubeletKubeconfig, renderKubeProxyKubeconfig } from './kubeconfigs.ts';
import { assertRenderable } from '../../spec/profile-rules.ts';
import { modernPaths } from './paths.ts';

/** Where this profile places the credential files */
const modernCredentials: CredentialPaths = {
  kubeCa: modernPaths.kubeCa, kubeletCert: modernPaths.kubeletCert, kubeletKey: modernPaths.kubeletKey,
  etcdCa: modernPaths.etcdCa, etcdClientCert: modernPaths.etcdClientCert, etcdClientKey: modernPaths.etcdClientKey, kubeProxy: { cert: modernPaths.kubeProxyCert, key: modernPaths.kubeProxyKey },
};

const file = (path: string, contents: string, mode = 0o644): RenderedFile => ({ path, mode, contents });

interface ModernNodeTemplate {
  lookup: ReturnType<typeof renderEtcdLookup>;
  binaries: BinarySpec[];
  /** files every node gets byte for byte, in order, split where the per-node files go */
  head: RenderedFile[];
  /** flanneld.service for a node whose private address is unknown (the usual case on DigitalOcean) */
  flanneldUnit: RenderedFile;
  runtime: RenderedFile[];
  kubeletConfig: RenderedFile;
  kubeProxyUnit: RenderedFile;
  kubeProxyKubeconfig: RenderedFile;
  units: RenderedUnit[];
}

// Everything but the node name, address and certificates is the same on every node: it is
// rendered once per Cluster (a WeakMap, so nothing outlives the cluster; Cluster objects are never
// mutated) and shared, which keeps 5,000 nodes fast.
const templates = new WeakMap<Cluster, Map<string, ModernNodeTemplate>>();

function modernNodeTemplate(cluster: Cluster, kubernetesVersion: string | undefined): ModernNodeTemplate {
  const perVersion = templates.get(cluster) ?? new Map<string, ModernNodeTemplate>();
  templates.set(cluster, perVersion);
  const cached = perVersion.get(kubernetesVersion ?? '');
  if (cached) return cached;
  const lookup = renderEtcdLookup(cluster);
  // plan and apply resolve a minor-only version first (run/resolve.ts); `render` alone shows `v1.36.x` URLs
  const binaries = binariesFor(cluster, { kubernetesVersion, unresolved: 'placeholder' });
  const modulesLoad = file(MODULES_LOAD_PATH, renderModulesLoad(cluster.kubernetes.kubeProxyMode));
  const sysctl = file(SYSCTL_PATH, renderSysctl());
  const flanneldUnit = file(modernPaths.flanneldUnit, renderModernFlanneldUnit(cluster, lookup.unit.name));
  const containerdConfig = file(modernPaths.containerdConfig, renderContainerdConfig(cluster));
  const containerdUnit = file(modernPaths.containerdUnit, renderContainerdUnit());
  const conflist = file(modernPaths.cniConflist, renderFlannelConflist());
  const kubeletConfig = file(modernPaths.kubeletConfig, renderKubeletConfig(cluster));
  const kubeProxyUnit = file(modernPaths.kubeProxyUnit, renderModernKubeProxyUnit(cluster));
  const kubeProxyKubeconfig = file(modernPaths.kubeProxyKubeconfig, renderKubeProxyKubeconfig(cluster.kubernetes.apiServer, cluster.name), 0o600);

  // what each unit reads is derived per host from the rendered texts (unit-reads.ts). Nothing names
  // the conflist or the CNI plugins as files (containerd watches /etc/cni/net.d and runs plugins per
  // pod), nor runc and the shim (run per container start), so none of them restarts containerd.
  const sources: UnitSource[] = [
    // distro units: restarting them loads the modules / applies the sysctls (br_netfilter first:
    // the bridge-nf-call-* keys exist only once it is loaded)
    { name: MODULES_LOAD_UNIT, roots: [modulesLoad.path] },
    { name: SYSCTL_UNIT, roots: [sysctl.path] },
    etcdLookupUnitSource,
    { name: 'flanneld.service', roots: [modernPaths.flanneldUnit] },
    { name: 'containerd.service', roots: [modernPaths.containerdUnit] },
    { name: 'kubelet.service', roots: [modernPaths.kubeletUnit] },
    { name: 'kube-proxy.service', roots: [modernPaths.kubeProxyUnit] },
  ];
  // every node's files name the same paths (only names and addresses differ), so one node's texts,
  // rendered here for a stand-in node, give every node's graph: derived once, not 5,000 times
  const standIn = 'node';
  const perNode = [
    file(modernPaths.kubeletUnit, renderModernKubeletUnit(cluster, standIn)),
    file(modernPaths.kubeletKubeconfig, renderKubeletKubeconfig(cluster.kubernetes.apiServer, cluster.name, standIn)),
    file(modernPaths.kubeProxyConfig, renderKubeProxyConfig(cluster, standIn)),
  ];
  const placed = [...credentialPaths(modernCredentials), ...(lookup.unit.dependsOn.includes(DIGITALOCEAN_TOKEN_PATH) ? [DIGITALOCEAN_TOKEN_PATH] : [])];
  const units = deriveUnitReads(sources, [modulesLoad, sysctl, ...lookup.files, flanneldUnit, containerdConfig, containerdUnit, conflist, kubeletConfig, kubeProxyUnit, kubeProxyKubeconfig, ...perNode], binaries, placed);
  const t: ModernNodeTemplate = {
    lookup,
    binaries,
    head: [modulesLoad, sysctl, ...lookup.files],
    flanneldUnit,
    runtime: [containerdConfig, containerdUnit, conflist],
    kubeletConfig,
    kubeProxyUnit,
    kubeProxyKubeconfig,
    units,
  };
  perVersion.set(kubernetesVersion ?? '', t);
  return t;
}

export function renderModernHost(input: RenderInput, host: Host): RenderedHost {
  const { cluster, credentials } = input;
  assertRenderable(cluster);
  const t = modernNodeTemplate(cluster, input.kubernetesVersion);
  const node = nodeName(cluster, host);
  const creds = credentials ? renderCredentialFiles(credentials, host.name, modernCredentials) : undefined;

  const flanneldUnit = host.privateAddress
    ? file(modernPaths.flanneldUnit, renderModernFlanneldUnit(cluster, t.lookup.unit.name, host.privateAddress))
    : t.flanneldUnit;
  const kubeletUnit = file(modernPaths.kubeletUnit, renderModernKubeletUnit(cluster, node, host.privateAddress));
  const kubeletKubeconfig = file(modernPaths.kubeletKubeconfig, renderKubeletKubeconfig(cluster.kubernetes.apiServer, cluster.name, node), 0o600);
  const kubeProxyConfig = file(modernPaths.kubeProxyConfig, renderKubeProxyConfig(cluster, node));

  const files: RenderedFile[] = [
    ...t.head,
    flanneldUnit,
    ...(creds?.flannel ?? []),
    ...t.runtime,
    kubeletUnit,
    t.kubeletConfig,
    kubeletKubeconfig,
    ...(creds?.kubelet ?? []),
    t.kubeProxyUnit,
    kubeProxyConfig,
    t.kubeProxyKubeconfig,
    ...(creds?.kubeProxy ?? []),
  ];
  // units and binaries are fresh objects, so a caller editing one host's plan can't touch another's
  return { name: host.name, files, units: t.units.map((u) => ({ name: u.name, dependsOn: [...u.dependsOn] })), binaries: t.binaries.map((b) => ({ ...b })) };
}

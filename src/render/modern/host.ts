// The modern profile: every file one worker gets, its units in start order
// (kernel modules and sysctls → etcd-lookup → flanneld → containerd → kubelet, kube-proxy) and what
// restarts each.
import type { Host } from '../../spec/host.ts';
import { binariesFor } from '../release-binaries.ts';
import { renderEtcdLookup } from '../etcd-lookup.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { nodeName } from '../../spec/node-name.ts';
import type { BinarySpec, RenderedFile, RenderedHost, RenderedUnit, RenderInput } from '../types.ts';
import { renderContainerdConfig } from './containerd-config.ts';
import { renderContainerdUnit } from './containerd-unit.ts';
import { renderModernCredentialFiles } from './credential-files.ts';
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

const file = (path: string, contents: string, mode = 0o644): RenderedFile => ({ path, mode, contents });

function installed(binaries: readonly BinarySpec[], ...paths: string[]): string[] {
  return paths.filter((p) => binaries.some((b) => b.path === p));
}

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

  // certificate paths restart their users whether kubewright renders them here or the PKI phase
  // places them. Not listed on purpose: the conflist and the CNI plugins (containerd watches
  // /etc/cni/net.d and runs plugins per pod) and runc/the shim (used per container start).
  const units: RenderedUnit[] = [
    // distro units: restarting them loads the modules / applies the sysctls (br_netfilter first:
    // the bridge-nf-call-* keys exist only once it is loaded)
    { name: MODULES_LOAD_UNIT, dependsOn: [modulesLoad.path] },
    { name: SYSCTL_UNIT, dependsOn: [sysctl.path] },
    lookup.unit,
    {
      name: 'flanneld.service',
      dependsOn: [flanneldUnit.path, ...installed(binaries, modernPaths.flanneldBinary), modernPaths.etcdCa, modernPaths.etcdClientCert, modernPaths.etcdClientKey],
    },
    {
      name: 'containerd.service',
      dependsOn: [containerdUnit.path, containerdConfig.path, ...installed(binaries, modernPaths.containerdBinary)],
    },
    {
      name: 'kubelet.service',
      dependsOn: [
        modernPaths.kubeletUnit, kubeletConfig.path, modernPaths.kubeletKubeconfig, ...installed(binaries, modernPaths.kubeletBinary),
        modernPaths.kubeCa, modernPaths.kubeletCert, modernPaths.kubeletKey,
      ],
    },
    {
      name: 'kube-proxy.service',
      dependsOn: [
        kubeProxyUnit.path, modernPaths.kubeProxyConfig, kubeProxyKubeconfig.path, ...installed(binaries, modernPaths.kubeProxyBinary),
        modernPaths.kubeCa, modernPaths.kubeProxyCert, modernPaths.kubeProxyKey,
      ],
    },
  ];
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
  const creds = credentials ? renderModernCredentialFiles(credentials, host.name) : undefined;

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
  // units and binaries are copied (cheap) so a caller editing one host's plan can't touch another's
  return { name: host.name, files, units: t.units.map((u) => ({ name: u.name, dependsOn: [...u.dependsOn] })), binaries: t.binaries.map((b) => ({ ...b })) };
}

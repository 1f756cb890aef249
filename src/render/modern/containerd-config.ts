// containerd's /etc/containerd/config.toml for the CRI plugin: runc with systemd cgroups (the
// kubelet's cgroupDriver: systemd must match), CNI binaries and configs where flannel's conflist
// and the CNI plugins are installed, and the pause image of the Kubernetes minor.
// containerd 2.x reads config version 3 (CRI split into io.containerd.cri.v1.{images,runtime});
// containerd 1.x reads version 2 (everything under io.containerd.grpc.v1.cri).
import type { Cluster } from '../../spec/cluster.ts';
import { modernPaths } from './paths.ts';
import { pauseImage } from '../../spec/matrix.ts';

function containerdVersion(text: string): { major: number; minor: number } {
  const [major, minor] = text.replace(/^v/, '').split(/[.-]/).map(Number);
  return { major: major ?? 0, minor: minor ?? 0 };
}

/** The config version containerd `version` reads natively: 3 for containerd ≥ 2.0, else 2. */
export function containerdConfigVersion(version: string): 2 | 3 {
  return containerdVersion(version).major >= 2 ? 3 : 2;
}

export function renderContainerdConfig(cluster: Cluster): string {
  const c = containerdVersion(cluster.versions.containerd);
  const sandbox = pauseImage(cluster.kubernetes.version);
  const header = [
    '# containerd for the kubelet (CRI): runc with systemd cgroups, CNI from /etc/cni/net.d.',
    '# Rendered by kubewright; local edits are replaced on the next apply.',
  ];
  if (containerdConfigVersion(cluster.versions.containerd) === 3) {
    // containerd 2.1 replaced cni.bin_dir with the list cni.bin_dirs (bin_dir is deprecated there)
    const binDirs = c.major > 2 || c.minor >= 1 ? `bin_dirs = ["${modernPaths.cniBinDir}"]` : `bin_dir = "${modernPaths.cniBinDir}"`;
    return [
      ...header,
      'version = 3',
      '',
      '[grpc]',
      `  address = "${modernPaths.containerdSocket}"`,
      '',
      '[plugins."io.containerd.cri.v1.images".pinned_images]',
      `  sandbox = "${sandbox}"`,
      '',
      '[plugins."io.containerd.cri.v1.runtime".containerd]',
      '  default_runtime_name = "runc"',
      '',
      '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]',
      '  runtime_type = "io.containerd.runc.v2"',
      '',
      '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]',
      `  BinaryName = "${modernPaths.runcBinary}"`,
      '  SystemdCgroup = true',
      '',
      '[plugins."io.containerd.cri.v1.runtime".cni]',
      `  ${binDirs}`,
      `  conf_dir = "${modernPaths.cniConfDir}"`,
      '',
    ].join('\n');
  }
  return [
    ...header,
    'version = 2',
    '',
    '[grpc]',
    `  address = "${modernPaths.containerdSocket}"`,
    '',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${sandbox}"`,
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  default_runtime_name = "runc"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    `  BinaryName = "${modernPaths.runcBinary}"`,
    '  SystemdCgroup = true',
    '',
    '[plugins."io.containerd.grpc.v1.cri".cni]',
    `  bin_dir = "${modernPaths.cniBinDir}"`,
    `  conf_dir = "${modernPaths.cniConfDir}"`,
    '',
  ].join('\n');
}

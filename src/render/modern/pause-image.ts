// The pod sandbox ("pause") image containerd uses, matched to the Kubernetes minor as kubeadm
// pins it (cmd/kubeadm/app/constants PauseVersion of each release).
import { compareMinor } from '../../spec/version.ts';

const byMinor: [minor: number, tag: string][] = [
  [34, '3.10.1'],
  [31, '3.10'],
  [26, '3.9'],
  [25, '3.8'],
  [24, '3.7'],
  [23, '3.6'],
  [21, '3.5'],
  [18, '3.2'],
  [0, '3.1'],
];

export function pauseImage(version: { major: number; minor: number }): string {
  const tag = byMinor.find(([minor]) => compareMinor(version, { major: 1, minor }) >= 0)?.[1] ?? '3.1';
  return `registry.k8s.io/pause:${tag}`;
}

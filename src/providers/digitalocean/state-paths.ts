// Where the DigitalOcean provider keeps local state: next to the spec, in
// `.kubewright/<cluster>/` (host keys, created droplets), and how spec paths resolve.

import { dirname, join, resolve } from 'node:path';
import type { Cluster } from '../../spec/cluster.ts';

export function clusterStateDir(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return resolve(dirname(cluster.sourceFile), '.kubewright', cluster.name);
}

export function hostKeyDir(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(clusterStateDir(cluster), 'hostkeys');
}

export function dropletStateFile(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(clusterStateDir(cluster), 'digitalocean.json');
}

// Where the DigitalOcean provider keeps local state: next to the spec, in
// `.kubewright/<cluster>/` (host keys, created droplets), and how spec paths resolve.
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Cluster } from '../../spec/cluster.ts';

/** A path from the spec: `~/` is the home directory, relative paths are relative to the spec file. */
export function resolveSpecPath(cluster: Pick<Cluster, 'sourceFile'>, p: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  return isAbsolute(p) ? p : resolve(dirname(cluster.sourceFile), p);
}

export function clusterStateDir(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return resolve(dirname(cluster.sourceFile), '.kubewright', cluster.name);
}

export function hostKeyDir(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(clusterStateDir(cluster), 'hostkeys');
}

export function dropletStateFile(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(clusterStateDir(cluster), 'digitalocean.json');
}

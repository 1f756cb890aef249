// One run per cluster at a time: provision, pki, apply, up and down take an exclusive lock file
// in the cluster's state directory (`.kubewright/<cluster>/lock`, next to the spec). Two runs at
// once could create duplicate droplets, generate two host keys for one name, or leave a CA key
// and certificate that don't match. A stale lock (its process is gone) is taken over.
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KubewrightError } from '../errors.ts';
import { acquireLock, LockBusyError, type FileLock } from '../local-disk/file-lock.ts';
import type { Cluster } from '../spec/cluster.ts';

export function clusterLockPath(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(resolve(dirname(cluster.sourceFile), '.kubewright', cluster.name), 'lock');
}

/** Another run holds the cluster's lock. Exit 1, naming its PID. */
export class ClusterLockedError extends KubewrightError {
  readonly holderPid: number | undefined;
  constructor(cluster: string, path: string, e: LockBusyError, waitedMs: number) {
    const h = e.holder;
    const who = h ? `kubewright ${h.purpose} (pid ${h.pid} on ${h.host}, since ${h.since})` : 'another kubewright run';
    super(`cluster ${cluster} is locked by ${who}${waitedMs > 0 ? `; waited ${Math.round(waitedMs / 1000)} s` : ''}`, {
      hint: `let it finish, or pass --lock-timeout 10m to wait for it; if no kubewright is running there, remove ${path}`,
    });
    this.holderPid = h?.pid;
  }
}

/** Takes the cluster's lock for `purpose` (e.g. "up"), waiting up to `timeoutMs` for a running holder. */
export async function lockCluster(cluster: Pick<Cluster, 'sourceFile' | 'name'>, purpose: string, timeoutMs: number): Promise<FileLock> {
  const path = clusterLockPath(cluster);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return await acquireLock(path, purpose, { timeoutMs, pollMs: 250 });
  } catch (e) {
    if (e instanceof LockBusyError) throw new ClusterLockedError(cluster.name, path, e, timeoutMs);
    throw e;
  }
}

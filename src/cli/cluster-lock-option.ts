// `--lock-timeout` for the commands that change a cluster (provision, pki init/issue, apply, up,
// down); the lock is held until the command ends (main() releases it).
import { Option } from 'commander';
import { lockCluster } from '../run/cluster-lock.ts';
import type { Cluster } from '../spec/cluster.ts';
import { durationFlag } from './duration-option.ts';
import { holdUntilExit } from './held-locks.ts';

export function lockTimeoutOption(): Option {
  return new Option('--lock-timeout <duration>', 'wait this long for another run on the same cluster to finish (0: exit at once, naming its PID)').default('0');
}

/** Takes the cluster's lock for the rest of this command. */
export async function holdClusterLock(cluster: Pick<Cluster, 'sourceFile' | 'name'>, command: string, lockTimeout: string): Promise<void> {
  const timeoutMs = durationFlag('--lock-timeout', lockTimeout, { allowZero: true, example: '30s or 10m' });
  holdUntilExit(await lockCluster(cluster, command, timeoutMs));
}

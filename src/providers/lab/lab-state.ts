// The lab's state on disk, so `down` (or a second `up`) from another process finds the running
// machines: one JSON file plus per-machine files (host keys, networkd config, nspawn log).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import type { Cluster } from '../../spec/cluster.ts';

export interface LabMachineState {
  name: string;
  address: string;
  /** the systemd-nspawn process (it stays in the foreground and owns the container) */
  pid: number;
  /** /proc/<pid>/stat start time, so a reused PID is never mistaken for our machine */
  startTime: string;
}

export interface LabState {
  cluster: string;
  bridge: string;
  subnet: string;
  bridgeAddress: string;
  /** cgroup directories kubewright created for the machines (removed by `down`) */
  cgroups: string[];
  knownHostsPath: string;
  machines: LabMachineState[];
}

/** `<spec dir>/.kubewright/lab/<cluster name>` unless KUBEWRIGHT_LAB_STATE_DIR is set. */
export function labStateDir(cluster: Cluster, env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBEWRIGHT_LAB_STATE_DIR']) return resolve(env['KUBEWRIGHT_LAB_STATE_DIR']);
  return resolve(dirname(cluster.sourceFile), '.kubewright', 'lab', cluster.name);
}

export async function readLabState(dir: string): Promise<LabState | undefined> {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as LabState;
}

export async function writeLabState(dir: string, state: LabState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

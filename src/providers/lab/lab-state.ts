// The lab's state on disk, so `down` (or a second `up`) from another process finds the running
// machines: one JSON file plus per-machine files (host keys, networkd config, nspawn log).
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { readStateFile } from '../../local-disk/state-file.ts';
import type { Cluster } from '../../spec/cluster.ts';

const labMachineSchema = z.object({
  name: z.string().min(1),
  address: z.string(),
  /** the systemd-nspawn process (it stays in the foreground and owns the container) */
  pid: z.number().int().positive(),
  /** /proc/<pid>/stat start time, so a reused PID is never mistaken for our machine */
  startTime: z.string(),
});

const labStateSchema = z.object({
  cluster: z.string(),
  bridge: z.string().min(1),
  subnet: z.string(),
  bridgeAddress: z.string(),
  /** cgroup directories kubewright created for the machines (removed by `down`) */
  cgroups: z.array(z.string()),
  knownHostsPath: z.string(),
  machines: z.array(labMachineSchema),
});

export type LabMachineState = z.infer<typeof labMachineSchema>;
export type LabState = z.infer<typeof labStateSchema>;

/** `<spec dir>/.kubewright/lab/<cluster name>` unless KUBEWRIGHT_LAB_STATE_DIR is set. */
export function labStateDir(cluster: Cluster, env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBEWRIGHT_LAB_STATE_DIR']) return resolve(env['KUBEWRIGHT_LAB_STATE_DIR']);
  return resolve(dirname(cluster.sourceFile), '.kubewright', 'lab', cluster.name);
}

/** The lab's recorded machines, or undefined when none was started; a corrupt file is an error. */
export async function readLabState(dir: string): Promise<LabState | undefined> {
  const file = join(dir, 'state.json');
  return readStateFile(file, labStateSchema, `if no machine of this lab runs (\`machinectl list\`, \`ip link show\` for its bridge), delete ${dir} and run \`kubewright lab up\` again; otherwise repair the JSON by hand so \`kubewright lab down\` can stop them`);
}

export async function writeLabState(dir: string, state: LabState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

// The small state file next to the spec (`.kubewright/<cluster>/digitalocean.json`): which
// droplets kubewright ensured, their ids and addresses, and whether their host key is pinned;
// and the API load balancer with its IP.
// No secrets: host private keys live in hostkeys/, the token nowhere.
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { readStateFile } from '../../local-disk/state-file.ts';

const dropletStateSchema = z.object({
  version: z.literal(1),
  cluster: z.string(),
  tag: z.string(),
  hosts: z.array(
    z.object({
      name: z.string().min(1),
      id: z.number().int(),
      publicAddress: z.string(),
      privateAddress: z.string().optional(),
      hostKeyPinned: z.boolean(),
    }),
  ),
  /** the API load balancer the last ensure kept (more than one master): its IP is the endpoint's address */
  loadBalancer: z.object({ name: z.string().min(1), id: z.string().min(1), ip: z.string().min(1) }).optional(),
});

export type DropletState = z.infer<typeof dropletStateSchema>;
export type DropletStateHost = DropletState['hosts'][number];

/** The recorded droplets, or undefined when nothing was provisioned yet; a corrupt file is an error. */
export async function readDropletState(path: string): Promise<DropletState | undefined> {
  return readStateFile(path, dropletStateSchema, `delete ${path} and run \`kubewright provision -f <spec>\`: it lists the droplets by tag and writes the file again`);
}

export async function writeDropletState(path: string, state: DropletState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o600, 0o700);
}

export async function removeDropletState(path: string): Promise<void> {
  await rm(path, { force: true });
}

// The small state file next to the spec (`.kubewright/<cluster>/digitalocean.json`): which
// droplets kubewright ensured, their ids and addresses, and whether their host key is pinned.
// No secrets: host private keys live in hostkeys/, the token nowhere.
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';

export interface DropletStateHost {
  name: string;
  id: number;
  publicAddress: string;
  privateAddress: string | undefined;
  hostKeyPinned: boolean;
}

export interface DropletState {
  version: 1;
  cluster: string;
  tag: string;
  hosts: DropletStateHost[];
}

export async function readDropletState(path: string): Promise<DropletState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as DropletState;
    return parsed.version === 1 && Array.isArray(parsed.hosts) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeDropletState(path: string, state: DropletState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o600, 0o700);
}

export async function removeDropletState(path: string): Promise<void> {
  await rm(path, { force: true });
}

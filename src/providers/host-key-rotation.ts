// Host keys that travelled through cloud-init user_data (DigitalOcean metadata, a Terraform
// state) are readable by anything that can read that metadata or state, so kubewright replaces
// them after the first verified connection (src/run/rotate-host-key.ts). This file keeps the
// record next to the spec, `.kubewright/<cluster>/host-keys.json` (public keys only): which
// provisioning key each host started with and which key it has now. Pinning consults it, so a
// re-run never puts the provisioning key back into known_hosts once it was rotated away.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubewrightError } from '../errors.ts';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import type { Cluster } from '../spec/cluster.ts';
import { HostKeyStore } from './digitalocean/host-keys.ts';
import { clusterStateDir, hostKeyDir } from './digitalocean/state-paths.ts';
import { specPath } from '../spec/spec-path.ts';
import { readTerraformOutput } from './terraform/output-hosts.ts';

export interface HostKeyRotation {
  /** the key the host was provisioned with (`ssh-ed25519 AAAA…`, from user_data) */
  original: string;
  /** the key generated on the host; pinned alone once `done` */
  current: string;
  /** pending: the new key may or may not be in use yet (both are pinned); done: only `current` is */
  state: 'pending' | 'done';
}

export type HostKeyRotations = Record<string, HostKeyRotation>;

export function rotationFile(cluster: Pick<Cluster, 'sourceFile' | 'name'>): string {
  return join(clusterStateDir(cluster), 'host-keys.json');
}

export async function readRotations(cluster: Pick<Cluster, 'sourceFile' | 'name'>): Promise<HostKeyRotations> {
  const file = rotationFile(cluster);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const hosts = (parsed as { version?: unknown; hosts?: unknown } | undefined)?.hosts;
  if ((parsed as { version?: unknown } | undefined)?.version !== 1 || hosts === null || typeof hosts !== 'object') {
    throw new KubewrightError(`${file}: not a kubewright host key record`, { hint: 'restore it from a backup, or delete it and re-pin the hosts\' current keys in known_hosts yourself' });
  }
  return hosts as HostKeyRotations;
}

export async function writeRotation(cluster: Pick<Cluster, 'sourceFile' | 'name'>, name: string, rotation: HostKeyRotation | undefined): Promise<void> {
  const all = await readRotations(cluster);
  if (rotation) all[name] = rotation;
  else delete all[name];
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  await writeFileAtomic(rotationFile(cluster), `${JSON.stringify({ version: 1, hosts: sorted }, null, 2)}\n`, 0o644, 0o700);
}

/** The keys to pin for a host provisioned with `provisioned`: after a rotation, the host's own key. */
export function keysToPin(rotations: HostKeyRotations, name: string, provisioned: string): string[] {
  const r = rotations[name];
  // a different provisioning key means a new host under the old name: its record is stale
  if (!r || r.original !== provisioned) return [provisioned];
  return r.state === 'done' ? [r.current] : [r.original, r.current];
}

/** Whether the host still needs its provisioning key replaced. */
export function needsRotation(rotations: HostKeyRotations, name: string, provisioned: string): boolean {
  const r = rotations[name];
  return !r || r.original !== provisioned || r.state !== 'done';
}

/** The key each DigitalOcean or Terraform host was provisioned with (hosts without one are left out). */
export async function provisioningHostKeys(cluster: Cluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (cluster.provider.kind === 'digitalocean') {
    const store = new HostKeyStore(hostKeyDir(cluster));
    for (const name of await store.names()) {
      const pub = await store.loadPublic(name);
      if (pub) out.set(name, pub);
    }
  } else if (cluster.provider.kind === 'terraform') {
    for (const h of await readTerraformOutput(specPath(cluster, cluster.provider.outputFile))) if (h.hostKey) out.set(h.name, h.hostKey);
  }
  return out;
}

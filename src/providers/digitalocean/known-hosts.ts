// The cluster's known_hosts: one line per host we pinned, `name,public,private ssh-ed25519 ...`.
// Lines that name one of these hosts or addresses are replaced (DigitalOcean reuses IPs).
import { editKnownHosts } from '../../exec/known-hosts.ts';

export interface KnownHost {
  names: string[];
  publicKey: string;
}

export async function updateKnownHosts(path: string, add: readonly KnownHost[], remove: readonly string[] = []): Promise<void> {
  await editKnownHosts(path, (existing) => replaceKnownHosts(existing, add, remove));
}

function replaceKnownHosts(existing: string, add: readonly KnownHost[], remove: readonly string[]): string {
  // `[host]:port` and `host` name the same machine for replacement purposes
  const bare = (h: string): string => h.replace(/^\[(.*)\]:\d+$/, '$1');
  const drop = new Set([...remove, ...add.flatMap((h) => h.names)].map(bare));
  const kept = existing.split('\n').filter((line) => {
    if (line.trim() === '' || line.startsWith('#')) return line.trim() !== '';
    const hosts = (line.split(/\s+/)[0] ?? '').split(',').map(bare);
    return !hosts.some((h) => drop.has(h));
  });
  const added = add.map((h) => `${[...new Set(h.names)].join(',')} ${h.publicKey}`);
  const text = [...kept, ...added].join('\n');
  return text === '' ? '' : `${text}\n`;
}

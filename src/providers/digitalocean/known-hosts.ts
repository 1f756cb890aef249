// The cluster's known_hosts: one line per host we pinned, `name,public,private ssh-ed25519 ...`.
// Lines that name one of these hosts or addresses are replaced (DigitalOcean reuses IPs).
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';

export interface KnownHost {
  names: string[];
  publicKey: string;
}

export async function updateKnownHosts(path: string, add: readonly KnownHost[], remove: readonly string[] = []): Promise<void> {
  const existing = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
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
  const next = text === '' ? '' : `${text}\n`;
  if (next !== existing) await writeFileAtomic(path, next, 0o644);
}

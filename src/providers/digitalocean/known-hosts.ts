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
  const removed = new Set(remove.map(bare));
  // a host's new lines take the place of its old ones, so re-pinning keeps the file's order stable
  const pending = add.map((h) => ({ bare: new Set(h.names.map(bare)), line: `${[...new Set(h.names)].join(',')} ${h.publicKey}` }));
  const out: string[] = [];
  for (const line of existing.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    const hosts = (line.split(/\s+/)[0] ?? '').split(',').map(bare);
    const owners = pending.filter((p) => hosts.some((h) => p.bare.has(h)));
    if (owners.length > 0) {
      // every entry for the same names goes here (a host may have two keys pinned during a rotation)
      const names = owners[0]!.bare;
      for (const p of pending.filter((q) => [...q.bare].some((n) => names.has(n)))) out.push(p.line);
      for (let i = pending.length - 1; i >= 0; i--) if ([...pending[i]!.bare].some((n) => names.has(n))) pending.splice(i, 1);
      continue;
    }
    if (hosts.some((h) => removed.has(h) || add.some((a) => a.names.map(bare).includes(h)))) continue;
    out.push(line);
  }
  out.push(...pending.map((p) => p.line));
  const text = out.join('\n');
  return text === '' ? '' : `${text}\n`;
}

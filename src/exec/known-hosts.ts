// OpenSSH known_hosts: look a host's key up (plain and hashed `|1|salt|hmac` entries, `[host]:port`
// for ports other than 22, `@revoked` markers) and add newly accepted keys atomically.
import { createHash, createHmac } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import { withLock } from '../local-disk/file-lock.ts';

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  /**
   * the file pins keys for the host, none of them this one — of any type: a man in the middle
   * offering an ECDSA key for a host pinned as ed25519 must not pass as a new host
   */
  | { kind: 'changed'; line: number; pinnedTypes: string[] }
  | { kind: 'revoked'; line: number };

/** The name known_hosts uses for an address and port. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type (`ssh-ed25519`, ...) at the start of an SSH wire-format public key blob. */
/** The key's fingerprint as `ssh-keygen -lf` prints it: SHA256:<base64, unpadded>. */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return pattern.split(',').some((p) => !p.startsWith('!') && p === name);
}

interface Entry {
  line: number;
  marker: string | undefined;
  keyType: string;
  key: string;
}

/** The entries of the file that name `name` (@cert-authority lines are not host keys and are skipped). */
function entriesFor(text: string, name: string): Entry[] {
  const found: Entry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || marker === '@cert-authority') continue;
    if (patternMatches(hosts, name)) found.push({ line: i + 1, marker, keyType, key });
  }
  return found;
}

/** The key types pinned for `name` (revoked keys aside), in file order. */
export function pinnedKeyTypes(text: string, name: string): string[] {
  return [...new Set(entriesFor(text, name).filter((e) => e.marker !== '@revoked').map((e) => e.keyType))];
}

/** ssh2's host key algorithm names for pinned key types; an RSA key signs with SHA-2 or SHA-1. */
export function hostKeyAlgorithms(types: readonly string[]): string[] {
  const names: Record<string, string[]> = {
    'ssh-ed25519': ['ssh-ed25519'],
    'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
    'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
    'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
    'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  };
  return [...new Set(types.flatMap((t) => names[t] ?? []))];
}

/** Checks `blob` for `name` against the text of a known_hosts file. */
export function checkHostKey(text: string, name: string, blob: Buffer): HostKeyVerdict {
  const b64 = blob.toString('base64');
  const entries = entriesFor(text, name);
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === b64);
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const pinned = entries.filter((e) => e.marker !== '@revoked');
  if (pinned.some((e) => e.key === b64)) return { kind: 'known' };
  const first = pinned[0];
  if (first) return { kind: 'changed', line: first.line, pinnedTypes: pinnedKeyTypes(text, name) };
  return { kind: 'unknown' };
}

export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/**
 * Rewrites a known_hosts file through `edit`, atomically (temp file + rename: a reader never sees
 * half a file) and under a lock file beside it, so concurrent writers — hosts connecting in
 * parallel, or two kubewright processes — lose no line. A new file is 0600; an existing file keeps its mode.
 */
export async function editKnownHosts(file: string, edit: (text: string) => string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await withLock(`${file}.lock`, 'known_hosts update', { timeoutMs: 30_000, pollMs: 20 }, async () => {
    const text = await readKnownHosts(file);
    const next = edit(text);
    if (next === text) return;
    const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o600);
    await writeFileAtomic(file, next, mode);
  });
}

/** Adds `name type key` to the file unless that exact key is already pinned for the name. */
export async function appendKnownHost(file: string, name: string, blob: Buffer): Promise<void> {
  await editKnownHosts(file, (text) => {
    if (checkHostKey(text, name, blob).kind === 'known') return text;
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    return `${text}${sep}${name} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
  });
}

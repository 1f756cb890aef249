// OpenSSH known_hosts: look a host's key up (plain and hashed `|1|salt|hmac` entries, `[host]:port`
// for ports other than 22, `@revoked` markers) and append newly accepted keys.
import { createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  /** the file has keys of this type for the host, none of them this one */
  | { kind: 'changed'; line: number }
  | { kind: 'revoked'; line: number };

/** The name known_hosts uses for an address and port. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type (`ssh-ed25519`, ...) at the start of an SSH wire-format public key blob. */
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

/** Checks `blob` for `name` against the text of a known_hosts file. */
export function checkHostKey(text: string, name: string, blob: Buffer): HostKeyVerdict {
  const type = keyTypeOf(blob);
  const b64 = blob.toString('base64');
  let changed: number | undefined;
  let known = false;
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
    if (!patternMatches(hosts, name)) continue;
    if (marker === '@revoked') {
      if (key === b64) return { kind: 'revoked', line: i + 1 };
      continue;
    }
    if (key === b64) known = true;
    else if (keyType === type) changed ??= i + 1;
  }
  if (known) return { kind: 'known' };
  if (changed !== undefined) return { kind: 'changed', line: changed };
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

/** Appends `name type key` to the file (created 0600 with its directory when missing). */
export async function appendKnownHost(file: string, name: string, blob: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

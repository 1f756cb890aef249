// SSH trust for lab machines: one ed25519 host key per machine generated here and pinned in the
// spec's known_hosts (no trust on first use), and the client key root logs in with.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { editKnownHosts } from '../../exec/known-hosts.ts';
import { LabError } from './lab-errors.ts';
import { runLocal } from '../../exec/command-result.ts';

/** Generates an ed25519 key pair at `path` (and `path.pub`) unless one is there; returns the public key line. */
export async function ensureEd25519Key(path: string, comment: string): Promise<string> {
  if (!existsSync(path)) {
    const r = await runLocal(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { allowFailure: true });
    if (r.code !== 0) throw new LabError(`ssh key: generating ${path} failed: ${r.stderr.trim()}`, { hint: 'check that the directory exists and is writable' });
  }
  return publicKeyOf(path);
}

/** The public key for a private key file: `<path>.pub` if present, else derived with ssh-keygen -y. */
export async function publicKeyOf(privateKeyPath: string, publicKeyPath?: string): Promise<string> {
  const pub = publicKeyPath ?? `${privateKeyPath}.pub`;
  if (existsSync(pub)) return (await readFile(pub, 'utf8')).trim();
  const r = await runLocal(['ssh-keygen', '-y', '-f', privateKeyPath], { allowFailure: true });
  if (r.code !== 0) {
    throw new LabError(`ssh key: cannot read the public key of ${privateKeyPath}`, { hint: 'set ssh.publicKeyPath, or use a key without a passphrase' });
  }
  return r.stdout.trim();
}

/** `<type> <base64>` of a public key line (drops the comment). */
export function keyMaterial(publicKeyLine: string): string {
  return publicKeyLine.trim().split(/\s+/).slice(0, 2).join(' ');
}

export function knownHostsMarker(cluster: string): string {
  return `kubewright-lab:${cluster}`;
}

/**
 * Rewrites known_hosts: drops earlier lines for these addresses or from this lab, appends the
 * pinned keys. Lines of other hosts are kept as they are.
 */
export async function pinKnownHosts(file: string, cluster: string, entries: { address: string; publicKey: string; name: string }[]): Promise<void> {
  const marker = knownHostsMarker(cluster);
  const addresses = new Set(entries.map((e) => e.address));
  const pinned = entries.map((e) => `${e.address} ${keyMaterial(e.publicKey)} ${marker}/${e.name}`);
  await editKnownHosts(file, (text) => [...linesOf(text).filter((l) => !isOurs(l, marker, addresses)), ...pinned].join('\n') + '\n');
}

export async function unpinKnownHosts(file: string, cluster: string): Promise<void> {
  if (!existsSync(file)) return;
  const marker = knownHostsMarker(cluster);
  await editKnownHosts(file, (text) => {
    const lines = linesOf(text);
    const kept = lines.filter((l) => !isOurs(l, marker, new Set()));
    return kept.length === lines.length ? text : kept.length ? kept.join('\n') + '\n' : '';
  });
}

/** Drops the pinned lines of one machine of this lab (up --prune removed it). */
export async function unpinKnownHost(file: string, cluster: string, name: string): Promise<void> {
  if (!existsSync(file)) return;
  const tag = `${knownHostsMarker(cluster)}/${name}`;
  await editKnownHosts(file, (text) => {
    const lines = linesOf(text);
    const kept = lines.filter((l) => l.trim().split(/\s+/)[3] !== tag);
    return kept.length === lines.length ? text : kept.length ? kept.join('\n') + '\n' : '';
  });
}

function isOurs(line: string, marker: string, addresses: Set<string>): boolean {
  const f = line.trim().split(/\s+/);
  return f[3]?.startsWith(`${marker}/`) === true || (f[0] !== undefined && f[0].split(',').some((h) => addresses.has(h)));
}

function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

// Which account SSH keys new droplets get: the spec's fingerprints/ids, or ssh.publicKeyPath
// uploaded to /v2/account/keys when no key with its fingerprint exists yet.
// GET /v2/account/keys is limited to 10 requests per minute: look the keys up once per run.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.ts';
import type { DigitalOceanClient } from './api-client.ts';
import { DigitalOceanUncertainError } from './errors.ts';

interface AccountKey {
  id: number;
  fingerprint: string;
  name: string;
}

/** DigitalOcean's fingerprint of an OpenSSH public key: MD5 of the key blob, colon-separated hex. */
export function sshKeyFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/]+=*$/.test(blob)) throw new Error('not an OpenSSH public key line');
  const hex = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
  return hex.match(/../g)?.join(':') ?? hex;
}

export async function resolveSshKeys(
  client: DigitalOceanClient,
  opts: { sshKeys: readonly (string | number)[]; publicKeyPath?: string | undefined; keyName: string },
): Promise<{ keys: (string | number)[]; uploaded: boolean }> {
  if (opts.sshKeys.length > 0) return { keys: [...opts.sshKeys], uploaded: false };
  if (opts.publicKeyPath === undefined) {
    throw new InputError('provider.digitalocean.sshKeys: no SSH key for new droplets', {
      hint: 'list key fingerprints in provider.digitalocean.sshKeys, or set ssh.publicKeyPath to upload yours',
    });
  }
  let line: string;
  let fingerprint: string;
  try {
    line = (await readFile(opts.publicKeyPath, 'utf8')).trim().split('\n')[0] ?? '';
    fingerprint = sshKeyFingerprint(line);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`ssh.publicKeyPath ${opts.publicKeyPath}: ${code ? `cannot read it (${code})` : 'not an OpenSSH public key'}`, {
      hint: 'point ssh.publicKeyPath at a .pub file such as ~/.ssh/id_ed25519.pub',
    });
  }
  const existing = await client.listAll<AccountKey>('/v2/account/keys', 'ssh_keys');
  if (existing.some((k) => k.fingerprint === fingerprint)) return { keys: [fingerprint], uploaded: false };
  try {
    await client.request<{ ssh_key?: AccountKey }>('POST', '/v2/account/keys', { body: { name: opts.keyName, public_key: line } });
  } catch (e) {
    if (!(e instanceof DigitalOceanUncertainError)) throw e;
    // the upload may have happened: one more lookup decides (a second upload would be rejected anyway)
    const again = await client.listAll<AccountKey>('/v2/account/keys', 'ssh_keys');
    if (!again.some((k) => k.fingerprint === fingerprint)) throw e;
  }
  return { keys: [fingerprint], uploaded: true };
}

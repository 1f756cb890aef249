// SSH trust from birth: each droplet's ed25519 host key is generated here, stored 0600 under
// `.kubewright/<cluster>/hostkeys/`, handed to cloud-init through user_data, and pinned in
// known_hosts — so the first SSH connection is already verified (no trust on first use).
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { KubewrightError } from '../../errors.ts';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';

export interface HostKey {
  name: string;
  /** OpenSSH private key (secret: never logged) */
  privateKey: string;
  /** `ssh-ed25519 AAAA...` */
  publicKey: string;
}

// ssh2 is loaded on first use: commands that only read the provider (render, plan) start without it
const requireCjs = createRequire(import.meta.url);

export function generateHostKey(name: string): HostKey {
  const ssh2 = requireCjs('ssh2') as typeof import('ssh2');
  // ssh2 1.17 drops a leading zero byte of the ed25519 public key (about 1 key in 200): the
  // 31-byte key is refused by ssh2's own parser and by OpenSSH ("error in libcrypto"), so the
  // droplet's sshd could not load it. Keep only a pair whose private key parses back to the
  // same public key.
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    // drop any comment: known_hosts and cloud-init want `type base64`
    const publicKey = pair.public.trim().split(/\s+/).slice(0, 2).join(' ');
    const parsed = ssh2.utils.parseKey(pair.private);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || key instanceof Error) continue;
    if (`ssh-ed25519 ${key.getPublicSSH().toString('base64')}` !== publicKey) continue;
    return { name, privateKey: pair.private.endsWith('\n') ? pair.private : `${pair.private}\n`, publicKey };
  }
  throw new KubewrightError(`${name}: could not generate a well-formed ed25519 host key`);
}

/** Host keys on disk, one pair per host name; generated once, reused on every run. */
export class HostKeyStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  private paths(name: string): { key: string; pub: string } {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name)) throw new KubewrightError(`host key: ${JSON.stringify(name)} is not a host name`);
    return { key: join(this.dir, name), pub: join(this.dir, `${name}.pub`) };
  }

  async load(name: string): Promise<HostKey | undefined> {
    const p = this.paths(name);
    try {
      const [privateKey, pub] = await Promise.all([readFile(p.key, 'utf8'), readFile(p.pub, 'utf8')]);
      return { name, privateKey, publicKey: pub.trim() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KubewrightError(`${name}: cannot read its SSH host key in ${this.dir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
        host: name, hint: 'check the permissions of the .kubewright directory next to the spec',
      });
    }
  }

  /** The public half alone: it stays after a rotation removed the (then useless) private key. */
  async loadPublic(name: string): Promise<string | undefined> {
    const p = this.paths(name);
    try {
      return (await readFile(p.pub, 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Host names with a public key here. */
  async names(): Promise<string[]> {
    const entries = await readdir(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    return entries.filter((f) => f.endsWith('.pub')).map((f) => f.slice(0, -4)).filter((n) => /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(n)).sort();
  }

  /** Deletes the private key (after its rotation: the host no longer uses it); the public half stays as the record's anchor. */
  async forgetPrivate(name: string): Promise<void> {
    await rm(this.paths(name).key, { force: true });
  }

  async loadOrCreate(name: string): Promise<HostKey> {
    const existing = await this.load(name);
    if (existing) return existing;
    const key = generateHostKey(name);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const p = this.paths(name);
    await writeFileAtomic(p.key, key.privateKey, 0o600, 0o700);
    await writeFileAtomic(p.pub, `${key.publicKey}\n`, 0o644, 0o700);
    return key;
  }
}

/**
 * cloud-init user_data that installs each host's own key. One multi-create call shares one
 * user_data, so a batch of several hosts uses a Jinja template keyed by the droplet name
 * (cloud-init's `v1.local_hostname`: DataSourceDigitalOcean sets local-hostname from the metadata
 * "hostname", the droplet name given at launch). Needs cloud-init with Jinja user-data support.
 */
export function hostKeyCloudConfig(keys: readonly HostKey[]): string {
  const block = (k: HostKey, indent: string): string[] => [
    `${indent}ssh_keys:`,
    `${indent}  ed25519_private: |`,
    ...k.privateKey.trimEnd().split('\n').map((l) => `${indent}    ${l}`),
    `${indent}  ed25519_public: ${k.publicKey}`,
  ];
  // cloud-init generates any type missing from ssh_keys; only ed25519 then, which we provide
  const common = ['ssh_deletekeys: true', 'ssh_genkeytypes: [ed25519]'];
  if (keys.length === 1 && keys[0]) return ['#cloud-config', ...common, ...block(keys[0], ''), ''].join('\n');
  const lines = ['## template: jinja', '#cloud-config', ...common];
  keys.forEach((k, i) => {
    const short = k.name.split('.')[0] ?? k.name;
    lines.push(`{% ${i === 0 ? 'if' : 'elif'} v1.local_hostname == '${k.name}' or v1.local_hostname == '${short}' %}`);
    lines.push(...block(k, ''));
  });
  lines.push('{% endif %}', '');
  return lines.join('\n');
}

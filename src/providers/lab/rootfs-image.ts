// The lab's machine image: a Debian bookworm rootfs built once with debootstrap and cached under
// the user's cache dir. All lab machines boot from it read-only (--volatile=overlay).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { acquireDirLock } from './dir-lock.ts';
import { LabError } from './lab-errors.ts';
import { runLocal } from '../../exec/command-result.ts';

export const rootfsPackages = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates', 'curl'];
/** bump when the template tweaks below change, so old caches are rebuilt */
const markerName = '.kubewright-rootfs-v1';

/** KUBEWRIGHT_LAB_ROOTFS, else $XDG_CACHE_HOME/kubewright/rootfs-bookworm, else ~/.cache/kubewright/rootfs-bookworm. */
export function defaultRootfsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBEWRIGHT_LAB_ROOTFS']) return env['KUBEWRIGHT_LAB_ROOTFS'];
  const cache = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(cache, 'kubewright', 'rootfs-bookworm');
}

/** The Debian mirror apt already uses (so a local mirror or proxy keeps working); KUBEWRIGHT_LAB_MIRROR overrides. */
export function debianMirror(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBEWRIGHT_LAB_MIRROR']) return env['KUBEWRIGHT_LAB_MIRROR'];
  const read = (f: string): string => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const deb = read('/etc/apt/sources.list').split('\n').find((l) => /^deb\s/.test(l) && !l.includes('security'));
  const fromList = deb?.replace(/\[[^\]]*\]/, '').trim().split(/\s+/)[1];
  if (fromList) return fromList;
  const sources = read('/etc/apt/sources.list.d/debian.sources').split('\n').find((l) => l.startsWith('URIs:') && !l.includes('security'));
  return sources?.split(/\s+/)[1] ?? 'http://deb.debian.org/debian';
}

export function isRootfsReady(dir: string): boolean {
  return existsSync(join(dir, markerName)) && existsSync(join(dir, 'lib/systemd/systemd'));
}

/**
 * Returns the cached rootfs, building it first if needed. A lock dir next to it makes a second
 * process wait instead of running debootstrap twice; a lock left by a dead process is taken over.
 */
export async function ensureRootfsImage(opts: { dir?: string; mirror?: string; progress?: (line: string) => void; lockTimeoutMs?: number } = {}): Promise<string> {
  const dir = opts.dir ?? defaultRootfsDir();
  if (isRootfsReady(dir)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  const release = await acquireDirLock(`${dir}.lock`, `lab image: ${dir}`, { timeoutMs: opts.lockTimeoutMs ?? 15 * 60_000, done: () => isRootfsReady(dir) });
  if (!release) return dir;
  try {
    if (isRootfsReady(dir)) return dir;
    const building = `${dir}.building`;
    await rm(building, { recursive: true, force: true });
    const mirror = opts.mirror ?? debianMirror();
    opts.progress?.(`lab image: debootstrap bookworm into ${dir} from ${mirror} (about a minute, once)`);
    const r = await runLocal(['debootstrap', '--variant=minbase', `--include=${rootfsPackages.join(',')}`, 'bookworm', building, mirror], { allowFailure: true });
    if (r.code !== 0) {
      await rm(building, { recursive: true, force: true });
      const tail = r.stdout.trim().split('\n').slice(-3).join(' | ');
      throw new LabError(`lab image: debootstrap failed (exit ${r.code}): ${tail}`, { hint: `check that ${mirror} is reachable, or set KUBEWRIGHT_LAB_MIRROR to a Debian mirror` });
    }
    await prepareTemplate(building);
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    return dir;
  } finally {
    await release();
  }
}

/** Offline tweaks so every container boots with its own identity and no network of its own making. */
async function prepareTemplate(root: string): Promise<void> {
  // systemd-networkd is not enabled in a debootstrap rootfs: host0 would stay down
  const en = await runLocal(['systemctl', `--root=${root}`, 'enable', 'systemd-networkd.service'], { allowFailure: true });
  if (en.code !== 0) throw new LabError(`lab image: enabling systemd-networkd failed: ${en.stderr.trim()}`, { hint: 'is systemd installed on this machine?' });
  // nothing inside should try to reach the network on a timer
  for (const u of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer']) {
    const p = join(root, 'etc/systemd/system', u);
    await unlink(p).catch(() => undefined);
    await symlink('/dev/null', p);
  }
  // debootstrap copied the host's hostname and resolver; an empty machine-id (and no dbus copy) gives each boot its own
  await rm(join(root, 'etc/hostname'), { force: true });
  await writeFile(join(root, 'etc/machine-id'), '');
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  await writeFile(join(root, 'etc/resolv.conf'), '# no DNS inside lab machines\n');
  // shared host keys from the package install: each machine gets its own, generated by kubewright and pinned
  for (const t of ['rsa', 'ecdsa', 'ed25519']) {
    await rm(join(root, `etc/ssh/ssh_host_${t}_key`), { force: true });
    await rm(join(root, `etc/ssh/ssh_host_${t}_key.pub`), { force: true });
  }
  await mkdir(join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  await writeFile(join(root, 'etc/ssh/sshd_config.d/kubewright-lab.conf'), 'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n');
  await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  await writeFile(join(root, markerName), `bookworm minbase + ${rootfsPackages.join(' ')}\n`);
}

// A fake root: a directory that stands in for a host's `/`, and the confinement that makes a
// command see it as `/` (used by the sshd test hosts and by tests of rendered node scripts).
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// HOST CONFINEMENT (part of the test hosts, not of kubewright): the sshd test hosts run every
// root session, and script tests run a rendered node script, through this script in a private
// mount namespace (unshare --mount --propagation private: no mount is seen outside the session,
// all vanish with it). It mounts this machine's /usr (read-only, with the fake root's own
// /usr/local kept on top), /dev and /proc into the fake root ($1), and the host's folder ($2: the
// systemctl test double, HOME) at its own path, then chroots into the fake root and runs
// $SSH_ORIGINAL_COMMAND (an SSH client's command, sftp included) with the login shell. So
// kubewright's absolute paths land in the fake root. A fresh fake root (makeFakeRoot) holds the
// top directories of a Linux host, the mount points, this machine's /etc/alternatives (awk is a
// link through it) and root's entry in /etc/passwd and /etc/group (sftp-server looks its user up).
const confineScript = `#!/bin/sh
# host confinement (test/support/fake-root.ts): run under unshare --mount
set -e
R="$1" D="$2" P="$PATH"
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount --bind "$R/usr/local" "$D/usr-local"
mount --rbind /usr "$R/usr"
mount -o remount,bind,ro "$R/usr"
mount --move "$D/usr-local" "$R/usr/local"
for l in bin sbin lib lib64; do [ -L "$R/$l" ] || [ ! -d "/$l" ] || mount --rbind "/$l" "$R/$l"; done
mount --rbind /dev "$R/dev"
mount --rbind /proc "$R/proc"
mount --bind "$D" "$R$D"
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec chroot "$R" /usr/bin/env "PATH=$P" "\${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"; fi
exec chroot "$R" /usr/bin/env "PATH=$P" "\${SHELL:-/bin/sh}" -l
`;

const fakeRootDirs = ['dev', 'etc', 'home', 'mnt', 'opt', 'proc', 'root', 'run', 'srv', 'usr/local', 'var'];
const fakeRootFiles: Record<string, string> = { 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n', 'etc/group': 'root:x:0:\n' };

/** Creates a fresh fake root for the host whose folder is `dir`: the top directories of a Linux
 * host (bin, lib… as on this machine), the confinement's mount points, /etc/alternatives, root's
 * passwd and group entries. */
export async function makeFakeRoot(root: string, dir: string): Promise<void> {
  for (const d of fakeRootDirs) await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  await mkdir(join(root, 'tmp'), { mode: 0o1777 });
  await chmod(join(root, 'tmp'), 0o1777);
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) {
    const target = await readlink(`/${l}`).catch(() => undefined);
    if (target !== undefined) await symlink(target, join(root, l));
    else await mkdir(join(root, l));
  }
  await mkdir(join(root, dir), { recursive: true });
  await mkdir(join(dir, 'usr-local'), { recursive: true });
  for (const [f, text] of Object.entries(fakeRootFiles)) await writeFile(join(root, f), text, { mode: 0o644 });
  await run('cp', ['-a', '/etc/alternatives', join(root, 'etc')]);
}

/** The files (not directories or symlinks) under a fake root that a fresh one does not have, sorted. */
export async function filesAdded(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((f) => !(f in fakeRootFiles) && !f.startsWith('etc/alternatives/'))
    .sort();
}

/** Puts the confinement script into `bin` (as `kw-confine`). */
export async function installConfinement(bin: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'kw-confine'), confineScript, { mode: 0o755 });
}

/** The command line that confines a command to `root` (`dir`: the folder mounted at its own path). */
export function confinementCommand(bin: string, root: string, dir: string): string {
  return `unshare --mount --propagation private -- /bin/sh ${bin}/kw-confine ${root} ${dir}`;
}

export interface ConfinedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` (sh syntax) as root confined to the fake root `root`, with exactly `env` (plus
 * SHELL); `dir` (e.g. the test's temp folder, holding `root`) is visible at its own path.
 * Installs the confinement script into `dir`/bin.
 */
export async function runConfined(root: string, dir: string, command: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ConfinedRun> {
  await installConfinement(join(dir, 'bin'));
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', join(dir, 'bin', 'kw-confine'), root, dir], {
      env: { ...env, SHELL: '/bin/sh', SSH_ORIGINAL_COMMAND: command },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

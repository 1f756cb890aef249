// One lab machine: a systemd-nspawn container booting systemd from the shared read-only image,
// its writes kept in a tmpfs overlay (--volatile=overlay) for as long as the container runs.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { LabError } from './lab-errors.ts';
import { isAlive } from './dir-lock.ts';

export interface LabMachineFiles {
  networkFile: string;
  authorizedKeysFile: string;
  hostKeyFile: string;
  logFile: string;
}

// Moves the shell into the machine's own cgroups, then becomes systemd-nspawn (same PID).
const enterCgroupsAndExec = `IFS='
'
for c in $KW_CGROUPS; do mkdir -p "$c" && echo $$ >"$c/cgroup.procs" || exit 97; done
unset KW_CGROUPS
exec systemd-nspawn "$@"`;

export function nspawnArgs(opts: { name: string; rootfs: string; bridge: string } & LabMachineFiles): string[] {
  return [
    '--boot', `--directory=${opts.rootfs}`, '--volatile=overlay', `--machine=${opts.name}`,
    // both are required when the host's PID 1 is not systemd (no bus to register with)
    '--register=no', '--keep-unit',
    `--network-bridge=${opts.bridge}`, '--resolv-conf=off', '--link-journal=no', '--console=read-only',
    `--bind-ro=${opts.networkFile}:/etc/systemd/network/10-kubewright-host0.network`,
    `--bind-ro=${opts.authorizedKeysFile}:/root/.ssh/authorized_keys`,
    `--bind-ro=${opts.hostKeyFile}:/etc/ssh/ssh_host_ed25519_key`,
    `--bind-ro=${opts.hostKeyFile}.pub:/etc/ssh/ssh_host_ed25519_key.pub`,
  ];
}

/** systemd-networkd config for the container's host0: a static address, no gateway, no IPv6 autoconf. */
export function renderHost0Network(address: string, prefix: number): string {
  return `[Match]\nName=host0\n\n[Network]\nAddress=${address}/${prefix}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;
}

/** Starts the container detached from this process (it outlives `kubewright lab up`); returns its PID. */
export function startLabMachine(opts: { name: string; rootfs: string; bridge: string; cgroups: string[] } & LabMachineFiles): { pid: number; startTime: string } {
  const log = openSync(opts.logFile, 'a');
  try {
    const child = spawn('sh', ['-c', enterCgroupsAndExec, 'sh', ...nspawnArgs(opts)], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, KW_CGROUPS: opts.cgroups.map((c) => `${c}/${opts.name}`).join('\n') },
    });
    child.unref();
    if (child.pid === undefined) throw new LabError(`lab machine ${opts.name}: could not start systemd-nspawn`, { host: opts.name, hint: 'is systemd-container installed?' });
    return { pid: child.pid, startTime: processStartTime(child.pid) ?? '' };
  } finally {
    closeSync(log);
  }
}

/** Field 22 of /proc/<pid>/stat: distinguishes our process from a later one with the same PID. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True if `pid` is still the nspawn process we started for this machine. */
export function isOurMachineRunning(m: { name: string; pid: number; startTime: string }): boolean {
  if (!isAlive(m.pid) || processStartTime(m.pid) !== m.startTime) return false;
  try {
    const argv = readFileSync(`/proc/${m.pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(`--machine=${m.name}`);
  } catch {
    return false;
  }
}

/** SIGTERM makes nspawn halt the container cleanly (SIGRTMIN+3 to its systemd); SIGKILL after the grace period. */
export async function stopLabMachine(m: { name: string; pid: number; startTime: string }, graceMs = 20_000): Promise<void> {
  if (!isOurMachineRunning(m)) return;
  process.kill(m.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(m.pid)) await sleep(100);
  if (isAlive(m.pid) && processStartTime(m.pid) === m.startTime) {
    process.kill(m.pid, 'SIGKILL');
    for (let i = 0; i < 50 && isAlive(m.pid); i++) await sleep(100);
  }
}

/** Waits until sshd answers with its banner; fails early with the log's tail if the container died. */
export async function waitForSshBanner(m: { name: string; address: string; pid: number; logFile: string }, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(m.pid)) {
      throw new LabError(`systemd-nspawn exited before sshd answered on ${m.address}:22`, { host: m.name, hint: `see ${m.logFile}:\n${await logTail(m.logFile)}` });
    }
    if (await sshBanner(m.address, 22)) return;
    await sleep(250);
  }
  throw new LabError(`sshd did not answer on ${m.address}:22 within ${Math.round(timeoutMs / 1000)} s`, { host: m.name, hint: `see ${m.logFile}` });
}

function sshBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    let buf = '';
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('SSH-')) done(true);
    });
    s.on('timeout', () => done(false));
    s.on('error', () => done(false));
    s.on('close', () => done(buf.includes('SSH-')));
  });
}

async function logTail(file: string): Promise<string> {
  if (!existsSync(file)) return '';
  // strip terminal colours nspawn writes
  // eslint-disable-next-line no-control-regex
  return (await readFile(file, 'utf8')).replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').slice(-8).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Real OpenSSH servers on loopback ports as fake hosts (REAL-INFRA.md §2): each has its own
// directory, host key and fake filesystem root; all accept one generated client key. There is
// no systemd on the test machine, so each host's PATH starts with a `systemctl` TEST DOUBLE
// (a shell script keeping unit state in files) — real systemd is tested with nspawn hosts.
// A root login is CONFINED to the host's fake root by the host itself (test/support/fake-root.ts):
// kubewright connects and writes absolute paths exactly as on a real host, and needs no
// test-only option to stay off this machine's `/`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { confinementCommand, installConfinement, makeFakeRoot } from './fake-root.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

export interface SshdHost {
  name: string;
  address: '127.0.0.1';
  port: number;
  dir: string;
  /** the host's fake filesystem root: what a root login on the host sees as `/` (but /usr, /dev, /proc, /sys) */
  root: string;
  /** where the systemctl test double keeps unit state and its call log (calls.log) */
  systemdDir: string;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA...` */
  knownHostsLine: string;
  /** the sshd log */
  logFile: string;
  process: ChildProcess;
}

export interface SshdHosts {
  dir: string;
  hosts: SshdHost[];
  /** the client private key (OpenSSH format) every host accepts */
  privateKey: string;
  privateKeyPath: string;
  /** a known_hosts file listing every host's key */
  knownHostsPath: string;
  /** lines systemctl (the test double) was called with on a host */
  systemctlCalls(host: SshdHost): Promise<string[]>;
  stop(): Promise<void>;
}

// TEST DOUBLE for systemctl/journalctl: units are "active" once started; every start/restart
// gets a new InvocationID; `show` prints the properties the gather phase reads.
const fakeSystemctl = `#!/bin/sh
# systemctl TEST DOUBLE (test/support/sshd-hosts.ts): unit state lives in $KW_FAKE_SYSTEMD
d="$KW_FAKE_SYSTEMD"; mkdir -p "$d"; echo "$*" >>"$d/calls.log"
cmd=""; units=""; skip=0
for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case "$a" in
    -p) skip=1 ;;
    --version) cmd=--version ;;
    -*) ;;
    *) if [ -z "$cmd" ]; then cmd="$a"; else units="$units $a"; fi ;;
  esac
done
newid() { od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'; }
case "$cmd" in
  show)
    first=1
    for u in $units; do
      [ $first = 1 ] || echo; first=0
      if [ -s "$d/$u.inv" ]; then st=active; inv=$(cat "$d/$u.inv"); ts=$(cat "$d/$u.ts"); else st=inactive; inv=; ts=; fi
      en=$(cat "$d/$u.enabled" 2>/dev/null || echo disabled)
      printf 'Id=%s\\nActiveState=%s\\nSubState=running\\nInvocationID=%s\\nActiveEnterTimestamp=%s\\nUnitFileState=%s\\nConditionResult=yes\\nLoadState=loaded\\n' "$u" "$st" "$inv" "$ts" "$en"
    done ;;
  # units named *broken*, or with a <unit>.broken file planted in the state dir, fail to start, like a binary that exits at once
  start) for u in $units; do case "$u" in *broken*) : >"$d/$u.failed"; continue ;; esac; [ -e "$d/$u.broken" ] && { : >"$d/$u.failed"; continue; }; [ -s "$d/$u.inv" ] || { newid >"$d/$u.inv"; date +%s%N >"$d/$u.ts"; }; done ;;
  restart) for u in $units; do case "$u" in *broken*) : >"$d/$u.failed"; continue ;; esac; [ -e "$d/$u.broken" ] && { : >"$d/$u.failed"; continue; }; newid >"$d/$u.inv"; date +%s%N >"$d/$u.ts"; done ;;
  enable) for u in $units; do echo enabled >"$d/$u.enabled"; done ;;
  is-enabled) rc=0; for u in $units; do e=$(cat "$d/$u.enabled" 2>/dev/null || echo disabled); echo "$e"; [ "$e" = enabled ] || rc=1; done; exit $rc ;;
  is-active) rc=0; for u in $units; do if [ -s "$d/$u.inv" ]; then echo active; elif [ -e "$d/$u.failed" ]; then echo failed; rc=3; else echo inactive; rc=3; fi; done; exit $rc ;;
  --version) echo 'systemd 252 (systemctl test double)' ;;
  daemon-reload) ;;
  *) echo "systemctl test double: unsupported: $*" >&2; exit 1 ;;
esac
`;
const fakeJournalctl = `#!/bin/sh
# journalctl TEST DOUBLE (test/support/sshd-hosts.ts)
echo "-- journal of the journalctl test double for: $* --"
echo "broken: exited with status 1"
`;

/** Whether an SSH server at address:port answers with its banner (bounded by a 1 s timeout). */
export async function acceptsSsh(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: address, port });
    c.once('data', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
    c.setTimeout(1000, () => {
      c.destroy();
      resolve(false);
    });
  });
}

/** sshd_config for a loopback test host: its own host key, pid and authorized_keys in `dir`, root
 * login by key only and confined to `root` (other users are not confined: the sudo tests), and a
 * PATH that starts with the systemd test doubles in `bin`. */
export function sshdConfig(o: { dir: string; root: string; address: string; port: number; bin: string; systemdDir: string; hostKey?: string }): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.address}`,
    `HostKey ${o.hostKey ?? `${o.dir}/ssh_host_ed25519_key`}`,
    `PidFile ${o.dir}/sshd.pid`,
    `AuthorizedKeysFile ${o.dir}/authorized_keys`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'MaxSessions 64',
    'MaxStartups 100',
    // HOME in the host's own folder: the login shell must not source the dotfiles of the machine
    // running the suite (here root's ~/.bashrc runs `pyenv init`, whose rehash races between
    // concurrent logins and writes to stderr).
    `SetEnv PATH=${o.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin KW_FAKE_SYSTEMD=${o.systemdDir} HOME=${o.dir}`,
    // an external sftp-server: the confinement runs it in the session's new root
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'Match User root',
    `  ForceCommand ${confinementCommand(o.bin, o.root, o.dir)}`,
    '',
  ].join('\n');
}

/** Puts the systemctl/journalctl test doubles and the confinement script (fake-root.ts) into `bin`. */
export async function installHostTestDoubles(bin: string): Promise<void> {
  await writeFile(join(bin, 'systemctl'), fakeSystemctl, { mode: 0o755 });
  await writeFile(join(bin, 'journalctl'), fakeJournalctl, { mode: 0o755 });
  await installConfinement(bin);
}

async function startOne(base: string, name: string, authorizedKeys: string): Promise<SshdHost> {
  const dir = join(base, name);
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const systemdDir = join(dir, 'systemd');
  await makeFakeRoot(root, dir);
  await mkdir(bin, { recursive: true });
  await mkdir(systemdDir, { recursive: true });
  await installHostTestDoubles(bin);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, 'ssh_host_ed25519_key')]);
  await writeFile(join(dir, 'authorized_keys'), authorizedKeys, { mode: 0o600 });
  const pub = (await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/);
  const logFile = join(dir, 'sshd.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    await writeFile(join(dir, 'sshd_config'), sshdConfig({ dir, root, address: '127.0.0.1', port, bin, systemdDir }));
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config'), '-E', logFile], { stdio: 'ignore' });
    let exited = false;
    // a watchdog stops this sshd if the test process dies without running stop() (bounded by its life)
    const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill ${child.pid} 2>/dev/null`], { stdio: 'ignore', detached: true });
    watchdog.unref();
    child.once('exit', () => {
      exited = true;
    });
    // bounded: up to 30 s for sshd to accept (seconds on a loaded 2-core CI machine)
    for (let i = 0; i < 300 && !exited; i++) {
      if (await acceptsSsh('127.0.0.1', port)) {
        return { name, address: '127.0.0.1', port, dir, root, systemdDir, knownHostsLine: `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`, logFile, process: child };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!exited) child.kill('SIGKILL');
  }
  throw new Error(`sshd for ${name} did not start; see ${logFile}`);
}

/** Starts `n` sshd hosts named `<prefix>1..n`; call stop() in `after`/`finally`. */
export async function startSshdHosts(n: number, prefix = 'h'): Promise<SshdHosts> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'kw-sshd-'));
  const hosts: SshdHost[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      hosts.map(
        (h) =>
          new Promise<void>((resolve) => {
            if (h.process.exitCode !== null || h.process.signalCode !== null) return resolve();
            h.process.once('exit', () => resolve());
            h.process.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const privateKeyPath = join(dir, 'client_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kubewright-test', '-f', privateKeyPath]);
    const authorized = await readFile(`${privateKeyPath}.pub`, 'utf8');
    hosts.push(...(await Promise.all(Array.from({ length: n }, (_, i) => startOne(dir, `${prefix}${i + 1}`, authorized)))));
    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, hosts.map((h) => `${h.knownHostsLine}\n`).join(''));
    await chmod(privateKeyPath, 0o600);
    return {
      dir,
      hosts,
      privateKey: await readFile(privateKeyPath, 'utf8'),
      privateKeyPath,
      knownHostsPath,
      async systemctlCalls(h) {
        const text = await readFile(join(h.systemdDir, 'calls.log'), 'utf8').catch(() => '');
        return text.split('\n').filter(Boolean);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

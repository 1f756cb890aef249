// Static-host SSH endpoints standing in for droplets (e2e test support). When the DigitalOcean
// simulator (test double) holds a new worker droplet, `bootDropletHost` plays its first boot:
// real cloud-init (`cloud-init devel render`, Debian package cloud-init) renders the user_data
// kubewright sent for that droplet's name, the ed25519 host key in it becomes the sshd host key,
// the account keys the create request named become authorized_keys, and a real OpenSSH server
// starts on the droplet's public IPv4 (a 127.x loopback address) at the spec's ssh.port, its root
// sessions confined to a fake root (the confinement of test/support/sshd-hosts.ts). Without
// cloud-init installed, a CLOUD-INIT STAND-IN evaluates the `v1.local_hostname` branches
// kubewright writes. There is no systemd here, so PATH on each host
// starts with the `systemctl` TEST DOUBLE of test/support/sshd-hosts.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { makeFakeRoot } from '../support/fake-root.ts';
import { acceptsSsh, installHostTestDoubles, sshdConfig } from '../support/sshd-hosts.ts';

const run = promisify(execFile);

export interface DropletHost {
  name: string;
  address: string;
  port: number;
  dir: string;
  /** the droplet's fake filesystem root: what a root login there sees as `/` (test/support/sshd-hosts.ts) */
  root: string;
  systemdDir: string;
  /** `ssh-ed25519 AAAA…` as installed from user_data */
  hostPublicKey: string;
  logFile: string;
  process: ChildProcess;
}

/**
 * CLOUD-INIT STAND-IN: the cloud-config this droplet would see. kubewright's batch user_data is a
 * Jinja template with one `{% if/elif v1.local_hostname == 'name' or … %}` branch per droplet;
 * this keeps the lines outside any branch plus the branch whose condition names `name` (or its
 * short name), which is all cloud-init's Jinja rendering does for that template.
 */
export function cloudConfigFor(userData: string, name: string): Record<string, unknown> {
  const short = name.split('.')[0] ?? name;
  const lines = userData.split('\n');
  const out: string[] = [];
  let inBranch = false;
  let taking = true;
  for (const line of lines) {
    if (line.startsWith('## template:')) continue;
    const tag = /^\{%\s*(if|elif|else|endif)\b(.*?)%\}\s*$/.exec(line);
    if (!tag) {
      if (!inBranch || taking) out.push(line);
      continue;
    }
    if (tag[1] === 'endif') {
      inBranch = false;
      taking = true;
      continue;
    }
    inBranch = true;
    const names = [...(tag[2] ?? '').matchAll(/v1\.local_hostname == '([^']*)'/g)].map((m) => m[1]);
    taking = names.includes(name) || names.includes(short);
  }
  const doc = parseYaml(out.join('\n')) as unknown;
  if (typeof doc !== 'object' || doc === null) throw new Error(`user_data for ${name} is not a cloud-config mapping`);
  return doc as Record<string, unknown>;
}

let cloudInit: Promise<string | undefined> | undefined;

/** The cloud-config cloud-init makes of `userData` on a droplet named `name` (real cloud-init when installed). */
export async function renderUserData(userData: string, name: string, workDir: string): Promise<Record<string, unknown>> {
  cloudInit ??= run('sh', ['-c', 'command -v cloud-init']).then((r) => r.stdout.trim() || undefined, () => undefined);
  const bin = await cloudInit;
  // a plain #cloud-config (one droplet per create) needs no rendering
  if (!bin || !userData.startsWith('## template: jinja')) return cloudConfigFor(userData, name);
  const ud = join(workDir, 'user-data');
  const inst = join(workDir, 'instance-data.json');
  await writeFile(ud, userData, { mode: 0o600 });
  // DataSourceDigitalOcean sets local-hostname from the metadata "hostname": the droplet name
  await writeFile(inst, JSON.stringify({ v1: { local_hostname: name } }));
  const { stdout } = await run(bin, ['devel', 'render', '-i', inst, ud], { timeout: 60_000 });
  const doc = parseYaml(stdout) as unknown;
  if (typeof doc !== 'object' || doc === null) throw new Error(`cloud-init rendered no cloud-config mapping for ${name}`);
  return doc as Record<string, unknown>;
}

/** The ed25519 host key pair in a droplet's rendered cloud-config. */
export function hostKeyOf(config: Record<string, unknown>, name: string): { privateKey: string; publicKey: string } {
  const keys = config['ssh_keys'] as { ed25519_private?: unknown; ed25519_public?: unknown } | undefined;
  if (typeof keys?.ed25519_private !== 'string' || typeof keys.ed25519_public !== 'string') {
    throw new Error(`user_data for ${name} carries no ssh_keys.ed25519_private/ed25519_public`);
  }
  return { privateKey: keys.ed25519_private.endsWith('\n') ? keys.ed25519_private : `${keys.ed25519_private}\n`, publicKey: keys.ed25519_public.trim() };
}

/** A port free on every one of these loopback addresses a moment ago. */
export async function portFreeOn(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '0.0.0.0', () => {
        const a = s.address();
        s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
      });
    });
    const free = await Promise.all(
      addresses.map(
        (address) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(false));
            s.listen(port, address, () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${addresses.join(', ')}`);
}

/** Boots one stand-in droplet: sshd on address:port with the given host key and authorized keys. */
export async function bootDropletHost(base: string, d: { name: string; address: string; port: number; userData: string; authorizedKeys: string[] }): Promise<DropletHost> {
  const dir = join(base, d.name);
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const systemdDir = join(dir, 'systemd');
  const rebooted = await readFile(join(root, 'etc/passwd'), 'utf8').then(() => true, () => false);
  for (const p of [bin, systemdDir]) await mkdir(p, { recursive: true });
  if (!rebooted) await makeFakeRoot(root, dir);
  let key = hostKeyOf(await renderUserData(d.userData, d.name, dir), d.name);
  await installHostTestDoubles(bin);
  // where cloud-init puts them: /etc/ssh in the droplet's root, so a host key rotation over SSH
  // (the session is confined to the root) changes the key this sshd presents to new connections
  const etcSsh = join(root, 'etc', 'ssh');
  await mkdir(etcSsh, { recursive: true });
  const kept = await readFile(join(etcSsh, 'ssh_host_ed25519_key.pub'), 'utf8').catch(() => undefined);
  if (kept !== undefined) {
    // a reboot: cloud-init's ssh module runs once per instance, so the droplet keeps the key it has (e.g. a rotated one)
    key = { privateKey: '', publicKey: kept.trim().split(/\s+/).slice(0, 2).join(' ') };
  } else {
    await writeFile(join(etcSsh, 'ssh_host_ed25519_key'), key.privateKey, { mode: 0o600 });
    await writeFile(join(etcSsh, 'ssh_host_ed25519_key.pub'), `${key.publicKey}\n`);
  }
  // cloud-init's copies of the user_data it ran (the rotation removes them)
  for (const d2 of [join(root, 'var/lib/cloud/instances', d.name), join(root, 'var/lib/cloud/instance')]) {
    await mkdir(d2, { recursive: true });
    await writeFile(join(d2, 'user-data.txt'), d.userData, { mode: 0o600 });
  }
  await writeFile(join(dir, 'authorized_keys'), d.authorizedKeys.map((k) => `${k.trim()}\n`).join(''), { mode: 0o600 });
  const logFile = join(dir, 'sshd.log');
  await writeFile(join(dir, 'sshd_config'), sshdConfig({ dir, root, address: d.address, port: d.port, bin, systemdDir, hostKey: join(etcSsh, 'ssh_host_ed25519_key') }));
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config'), '-E', logFile], { stdio: 'ignore' });
  // a watchdog stops this sshd if the test process dies without cleaning up
  const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill ${child.pid} 2>/dev/null`], { stdio: 'ignore', detached: true });
  watchdog.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  // bounded: up to 30 s for sshd to accept (seconds on a loaded 2-core CI machine)
  for (let i = 0; i < 300 && !exited; i++) {
    if (await acceptsSsh(d.address, d.port)) {
      return { name: d.name, address: d.address, port: d.port, dir, root, systemdDir, hostPublicKey: key.publicKey, logFile, process: child };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd for droplet ${d.name} on ${d.address}:${d.port} did not start; see ${logFile}`);
}

export async function stopDropletHost(h: DropletHost): Promise<void> {
  if (h.process.exitCode !== null || h.process.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    h.process.once('exit', () => resolve());
    h.process.kill('SIGTERM');
  });
}

/** The units kubewright started or restarted on a host, from the systemctl test double's call log. */
export async function startedUnits(h: DropletHost): Promise<Set<string>> {
  const log = await readFile(join(h.systemdDir, 'calls.log'), 'utf8').catch(() => '');
  const units = new Set<string>();
  for (const line of log.split('\n')) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'start' || verb === 'restart') for (const u of rest) if (!u.startsWith('-')) units.add(u);
  }
  return units;
}

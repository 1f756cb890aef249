// The connect phase: one SSH connection per host, reused by every later phase.
import { readFile } from 'node:fs/promises';
import { InputError, KubewrightError } from '../errors.ts';
import type { Executor } from '../exec/executor.ts';
import { HostKeyError, SshConnectionError } from '../exec/ssh-errors.ts';
import { SshExecutor } from '../exec/ssh-executor.ts';
import type { Host } from '../spec/host.ts';
import type { Cluster } from '../spec/cluster.ts';
import { specPath } from '../spec/spec-path.ts';

export interface ConnectOptions {
  privateKey: string;
  knownHostsPath: string;
  acceptNewHostKeys: boolean;
  /** false for plan: a new key is trusted for the session only and not written to known_hosts */
  recordNewHostKeys?: boolean | undefined;
  /**
   * keep retrying a host that refuses or drops the connection (sshd not up yet: a droplet that is
   * "active" while cloud-init still boots it) for this long; host key and auth errors retry only
   * on a `newHost`
   */
  waitForSshMs?: number | undefined;
  /**
   * the provider created the host in this run: its authorized key and pinned host key arrive
   * through cloud-init, which an sshd started early (socket activation) may answer before. Within
   * waitForSshMs a failed authentication or a host key that does not match the pin is then retried
   * too: the wrong key is never trusted, only asked again. Hosts that existed before fail at once.
   */
  newHost?: boolean | undefined;
  /** how long one connection may take from TCP connect to a finished SSH handshake (default 20 s): a host that accepts TCP but never answers SSH costs this, once per worker slot */
  connectTimeoutMs?: number | undefined;
}

export async function sshOptionsFor(cluster: Cluster, acceptNewHostKeys: boolean): Promise<ConnectOptions> {
  const keyPath = specPath(cluster, cluster.ssh.privateKeyPath);
  let privateKey: string;
  try {
    privateKey = await readFile(keyPath, 'utf8');
  } catch (e) {
    throw new InputError(`ssh.privateKeyPath: cannot read ${keyPath} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      hint: 'point ssh.privateKeyPath at the private key whose public half the hosts accept',
    });
  }
  return { privateKey, knownHostsPath: specPath(cluster, cluster.ssh.knownHostsPath), acceptNewHostKeys };
}

export async function connectHost(host: Host, opts: ConnectOptions): Promise<Executor> {
  if (!host.address) {
    throw new KubewrightError('host has no address yet', { host: host.name, hint: 'create the hosts first (`kubewright up` or `kubewright provision`), or list their addresses in provider.static.hosts' });
  }
  const target = { name: host.name, address: host.address, port: host.port, user: host.user };
  const ssh = { privateKey: opts.privateKey, knownHostsPath: opts.knownHostsPath, acceptNewHostKeys: opts.acceptNewHostKeys, recordNewHostKeys: opts.recordNewHostKeys, ...(opts.connectTimeoutMs !== undefined ? { readyTimeoutMs: opts.connectTimeoutMs } : {}) };
  const deadline = Date.now() + (opts.waitForSshMs ?? 0);
  for (;;) {
    try {
      return await SshExecutor.connect(target, ssh);
    } catch (e) {
      // bounded by the deadline; one attempt per second
      if (!(isNotUpYet(e) || (opts.newHost === true && keysNotInstalledYet(e))) || Date.now() + 1000 > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** A new host's sshd answering before cloud-init installed our key or its pinned host key. */
function keysNotInstalledYet(e: unknown): boolean {
  if (e instanceof HostKeyError) return e.reason === 'changed';
  return e instanceof SshConnectionError && / authentication as .* failed$/.test(e.message);
}

/** sshd is not (yet) answering: refused, reset, or closed during the handshake. */
function isNotUpYet(e: unknown): boolean {
  if (!(e instanceof SshConnectionError)) return false;
  return /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|EPIPE|closed during the handshake|timed out/.test(e.message);
}

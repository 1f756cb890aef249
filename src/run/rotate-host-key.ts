// Host key rotation after the first verified connection. A DigitalOcean droplet's ed25519 host
// key came through user_data: one create call's user_data carries the keys of up to 10 droplets,
// and any process on any of them can read it from the metadata service (a Terraform state holds
// them too). Whoever has a copy could impersonate the node to kubewright, which then sends it
// credentials. So, over the connection verified with that key:
//   1. a new key is generated on the host (the private half never leaves it);
//   2. its public half, read over the authenticated channel, is pinned beside the old one
//      (known_hosts is replaced atomically) and recorded as pending;
//   3. on the host the new key replaces the old one (rename), sshd reloads, and cloud-init's
//      copies of user_data are removed;
//   4. a fresh connection that trusts only the new key proves it is in use; then the old key
//      is unpinned, the record says done and the local private copy is deleted.
// Interrupted anywhere, a re-run finds the host under one of the pinned keys and starts over.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubewrightError } from '../errors.ts';
import type { Executor } from '../exec/executor.ts';
import { knownHostsName } from '../exec/known-hosts.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import { HostKeyStore } from '../providers/digitalocean/host-keys.ts';
import { updateKnownHosts } from '../providers/digitalocean/known-hosts.ts';
import { hostKeyDir } from '../providers/digitalocean/state-paths.ts';
import { needsRotation, provisioningHostKeys, readRotations, writeRotation, type HostKeyRotations } from '../providers/host-key-rotation.ts';
import { connectHost, type ConnectOptions } from './connect.ts';
import { CLOUD_INIT_WAIT } from '../phases/gather-facts.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';

export const sshHostKeyPath = '/etc/ssh/ssh_host_ed25519_key';
/** where cloud-init keeps the user_data it ran (and its pickled datasource, which holds it too) */
export const cloudInitUserDataCopies = [
  '/var/lib/cloud/instance/user-data.txt',
  '/var/lib/cloud/instance/user-data.txt.i',
  '/var/lib/cloud/instance/obj.pkl',
  '/var/lib/cloud/instances/*/user-data.txt',
  '/var/lib/cloud/instances/*/user-data.txt.i',
  '/var/lib/cloud/instances/*/obj.pkl',
  '/run/cloud-init/instance-data-sensitive.json',
];

export interface RotateOptions {
  cluster: Cluster;
  host: Host;
  /** the provisioning key (from user_data) the current connection was verified with */
  original: string;
  /** the cluster's known_hosts */
  knownHostsPath: string;
  /** a new connection to the host that trusts only the keys in this known_hosts file */
  connectWith(knownHostsPath: string): Promise<Executor>;
}

// hosts rotate in parallel; known_hosts and the record are read-modify-write files: one writer at a time
let pinning: Promise<unknown> = Promise.resolve();
function serially<T>(f: () => Promise<T>): Promise<T> {
  const run = pinning.then(f, f);
  pinning = run.catch(() => undefined);
  return run;
}

function pinNames(host: Host): string[] {
  const addresses = [host.name, host.address, host.publicAddress, host.privateAddress].filter((a): a is string => a !== undefined);
  return [...new Set(addresses)].map((a) => knownHostsName(a, host.port));
}

/** Rotates the host key of the host behind `x`; returns the new public key (`ssh-ed25519 AAAA…`). */
export async function rotateHostKey(x: Executor, o: RotateOptions): Promise<string> {
  const key = sshHostKeyPath;
  const next = `${key}.kw-new`;
  const q = shellQuote;
  const generated = await x.exec(
    [
      `mkdir -p "$(dirname ${q(key)})"`,
      `rm -f ${q(next)} ${q(`${next}.pub`)}`,
      `ssh-keygen -q -t ed25519 -N '' -C '' -f ${q(next)} </dev/null`,
      `cat ${q(`${next}.pub`)}`,
    ].join(' && '),
    { timeoutMs: 60_000 },
  );
  const fresh = generated.stdout.trim().split(/\s+/).slice(0, 2).join(' ');
  if (!/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/.test(fresh)) {
    throw new KubewrightError(`host key rotation: ssh-keygen on the host printed no ed25519 public key`, { host: o.host.name, hint: 'check that openssh-server (ssh-keygen) is installed on the host' });
  }

  // 2: both keys pinned (and recorded) before the host switches, so no crash can lock us out
  const names = pinNames(o.host);
  await serially(async () => {
    const before = (await readRotations(o.cluster))[o.host.name];
    const stillTrusted = [o.original, ...(before && before.original === o.original && before.state === 'pending' ? [before.current] : [])];
    await updateKnownHosts(o.knownHostsPath, [...new Set([...stillTrusted, fresh])].map((publicKey) => ({ names, publicKey })));
    await writeRotation(o.cluster, o.host.name, { original: o.original, current: fresh, state: 'pending' });
  });

  // 3: the switch on the host
  const copies = cloudInitUserDataCopies.map((p) => p.replace(/[^A-Za-z0-9_./*-]/g, '')).join(' ');
  await x.exec(
    [
      `mv -f ${q(next)} ${q(key)}`,
      `mv -f ${q(`${next}.pub`)} ${q(`${key}.pub`)}`,
      `rm -f ${copies}`,
      // new connections read the key file; a reload also covers sshds that keep keys in memory
      '{ systemctl reload ssh.service 2>/dev/null || systemctl reload sshd.service 2>/dev/null || true; }',
    ].join(' && '),
    { timeoutMs: 60_000 },
  );

  // 4: proof that the host now presents the new key, with nothing else trusted
  const dir = await mkdtemp(join(tmpdir(), 'kubewright-hostkey-'));
  try {
    const only = join(dir, 'known_hosts');
    await writeFile(only, names.map((n) => `${n} ${fresh}\n`).join(''), { mode: 0o600 });
    const check = await o.connectWith(only);
    await check.close();
  } catch (e) {
    throw new KubewrightError(`host key rotation: the host does not present its new key (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, {
      host: o.host.name, hint: 'both keys stay pinned; re-run to rotate again', cause: e,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await serially(async () => {
    await updateKnownHosts(o.knownHostsPath, [{ names, publicKey: fresh }]);
    await writeRotation(o.cluster, o.host.name, { original: o.original, current: fresh, state: 'done' });
  });
  if (o.cluster.provider.kind === 'digitalocean') await new HostKeyStore(hostKeyDir(o.cluster)).forgetPrivate(o.host.name);
  return fresh;
}

/** Which hosts were provisioned with a key others can read, and which of them are rotated already. */
export interface RotationState {
  provisioned: Map<string, string>;
  rotations: HostKeyRotations;
}

export async function readRotationState(cluster: Cluster): Promise<RotationState> {
  return { provisioned: await provisioningHostKeys(cluster), rotations: await readRotations(cluster) };
}

export function hostsToRotate(state: RotationState, hosts: readonly Host[]): string[] {
  return hosts.filter((h) => h.address && state.provisioned.has(h.name) && needsRotation(state.rotations, h.name, state.provisioned.get(h.name) ?? '')).map((h) => h.name);
}

/**
 * Connects (verified against known_hosts); when the host still presents its provisioning key,
 * rotates it and returns a connection verified with the new key.
 */
export async function connectAndRotate(cluster: Cluster, host: Host, base: ConnectOptions, state: RotationState): Promise<Executor> {
  const x = await connectHost(host, base);
  const original = state.provisioned.get(host.name);
  if (original === undefined || !needsRotation(state.rotations, host.name, original)) return x;
  try {
    // a new droplet: cloud-init may still be running (its later stages re-pickle the datasource,
    // user_data included), so the key is replaced and user_data's copies removed only once it is done
    await x.exec(CLOUD_INIT_WAIT, { allowFailure: true });
    await rotateHostKey(x, {
      cluster, host, original, knownHostsPath: base.knownHostsPath,
      connectWith: (knownHostsPath) => connectHost(host, { ...base, knownHostsPath, acceptNewHostKeys: false, waitForSshMs: 0 }),
    });
  } finally {
    await x.close();
  }
  return connectHost(host, base);
}

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import type { Host } from '../../src/spec/host.ts';

/** Runs a shell command as root on a lab machine over SSH, with the key and known_hosts the lab
 * spec in `dir` names (`./id_ed25519`, `./known_hosts`), and returns its stdout. */
export async function onLabHost(dir: string, h: Host, cmd: string): Promise<string> {
  const x = await SshExecutor.connect({ name: h.name, address: h.address!, port: 22, user: 'root' }, {
    privateKey: await readFile(join(dir, 'id_ed25519'), 'utf8'), knownHostsPath: join(dir, 'known_hosts'),
  });
  try {
    return (await x.exec(cmd)).stdout;
  } finally {
    await x.close();
  }
}

/**
 * Points the lab's state dir and the artifact cache into a test file's own folder; returns the
 * teardown for its `after`: the lab's machines and bridge removed, the environment restored, the
 * folder deleted.
 */
export function isolateTestLab(dir: string): (provider: { remove(): Promise<unknown> } | undefined, bridge: string) => Promise<void> {
  const saved = { KUBEWRIGHT_LAB_STATE_DIR: process.env['KUBEWRIGHT_LAB_STATE_DIR'], KUBEWRIGHT_CACHE_DIR: process.env['KUBEWRIGHT_CACHE_DIR'] };
  process.env['KUBEWRIGHT_LAB_STATE_DIR'] = join(dir, 'lab-state');
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
  return async (provider, bridge) => {
    await provider?.remove().catch(() => undefined);
    await promisify(execFile)('ip', ['link', 'del', bridge]).catch(() => undefined);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  };
}

/** Why the lab end-to-end tests cannot run here (root, the Debian packages they serve), or false. */
export function labE2eMissingPrerequisite(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, bridges)';
  for (const f of ['/usr/bin/systemd-nspawn', '/usr/bin/etcd', '/usr/bin/containerd', '/usr/sbin/runc', '/usr/lib/cni/bridge']) {
    if (!existsSync(f)) return `needs ${f} (Debian packages systemd-container etcd-server containerd runc containernetworking-plugins)`;
  }
  return false;
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

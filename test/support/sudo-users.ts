// Throwaway local users for testing the SSH executor's sudo mode as a non-root login
// (REAL-INFRA.md §2): created with useradd, unlocked for key login (`usermod -p '*'`, needed
// with `UsePAM no`), optionally given NOPASSWD sudo through a visudo-checked /etc/sudoers.d file.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SudoUser {
  name: string;
  /** the /etc/sudoers.d file granting NOPASSWD sudo, when the user has sudo rights */
  sudoersFile?: string;
  remove(): Promise<void>;
}

/** Creates a unique user `<prefix><hex>`; call remove() in `after`/`finally`. */
export async function createUser(prefix: string, opts: { sudo: boolean }): Promise<SudoUser> {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  const sudoersFile = opts.sudo ? `/etc/sudoers.d/${name}` : undefined;
  const remove = async (): Promise<void> => {
    if (sudoersFile) await rm(sudoersFile, { force: true });
    await run('userdel', ['-r', '-f', name]).catch(() => undefined);
  };
  try {
    await run('useradd', ['-m', '-s', '/bin/sh', name]);
    await run('usermod', ['-p', '*', name]);
    if (sudoersFile) {
      const staged = `/etc/sudoers.d/.${name}.new`;
      try {
        await writeFile(staged, `${name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
        await run('visudo', ['-cf', staged]);
        // sudo ignores files in sudoers.d whose names contain a dot, so the staged copy is inert
        await run('mv', [staged, sudoersFile]);
      } finally {
        await rm(staged, { force: true });
      }
    }
    return { name, sudoersFile, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

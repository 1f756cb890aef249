// A lock between kubewright processes: a directory created atomically, holding the owner's PID.
// A lock whose owner has died is taken over; waiting is bounded.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './lab-errors.ts';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `lock` (a directory path), waiting up to timeoutMs for another live holder. `done()`
 * is polled while waiting: when it turns true the wait ends without the lock (returns undefined).
 */
export async function acquireDirLock(lock: string, what: string, opts: { timeoutMs: number; done?: () => boolean }): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      return () => rm(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
      if (holder > 0 && !isAlive(holder)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new LabError(`${what} is locked by process ${holder || '?'}`, { hint: `wait for it to finish, or remove ${lock} if no kubewright is running` });
      }
      await new Promise((r) => setTimeout(r, 500));
      if (opts.done?.()) return undefined;
    }
  }
}

// What the shipped product must not contain: a hook that exists only for kubewright's own tests
// (an environment variable named KUBEWRIGHT_TEST…). Tests confine hosts from the outside instead
// (test/support/sshd-hosts.ts) or inject an executor through the library (`runHosts`' `connect`).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const testHookPattern = /KUBEWRIGHT_TEST\w*/g;

/** `file:line: match` for every test hook in the files under `dir`. */
export async function testHooksIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = join(e.parentPath, e.name);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(testHookPattern)) found.push(`${file.slice(dir.length + 1)}:${i + 1}: ${m[0]}`);
    });
  }
  return found;
}

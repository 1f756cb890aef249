// Paths written in a spec: `~` and `~/…` are the home directory, relative paths are relative to
// the spec file's folder, absolute paths stay as they are. One definition for every spec path
// (ssh keys, known_hosts, pki.dir, state, mirror, terraform output).
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export function specPath(cluster: { sourceFile: string }, p: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  return isAbsolute(p) ? p : resolve(dirname(resolve(cluster.sourceFile)), p);
}

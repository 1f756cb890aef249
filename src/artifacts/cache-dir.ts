// Where downloaded artifacts are kept, by checksum: $KUBEWRIGHT_CACHE_DIR, else the user cache dir.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function artifactCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBEWRIGHT_CACHE_DIR']) return env['KUBEWRIGHT_CACHE_DIR'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'kubewright', 'artifacts');
}

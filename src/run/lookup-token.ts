// The read-only DigitalOcean token etcd-lookup uses on nodes when etcd members are found by tag.
// It is placed by apply (secret: redacted in plans, never logged) and never rendered into a tree.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';

/** The token, or undefined when the spec needs none; apply requires the file, plan only notes its absence. */
export async function readLookupTokenFile(cluster: Cluster, file: string | undefined, mode: 'plan' | 'apply'): Promise<{ token: string | undefined; note: string | undefined }> {
  const tag = cluster.etcd.discovery.digitaloceanTag;
  if (!tag) {
    if (file) throw new InputError('--lookup-token-file: the spec has no etcd.discovery.digitaloceanTag, so nodes need no token', { hint: 'leave the flag out' });
    return { token: undefined, note: undefined };
  }
  if (!file) {
    const hint = 'create a read-only token in the DigitalOcean console and pass --lookup-token-file FILE (it is placed on nodes as /etc/flannel/do-token, mode 0600)';
    if (mode === 'plan') return { token: undefined, note: `etcd.discovery.digitaloceanTag (${tag}): without --lookup-token-file the token file is left out of this plan — ${hint}` };
    throw new InputError(`etcd.discovery.digitaloceanTag (${tag}): nodes look up etcd members with a read-only DigitalOcean token`, { hint });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`--lookup-token-file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { hint: 'check the path' });
  }
  if (!text.trim()) throw new InputError(`--lookup-token-file: ${file} is empty`, { hint: 'put the read-only token in it' });
  return { token: text.trim(), note: undefined };
}

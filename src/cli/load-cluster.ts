// Reads and validates the spec file named by -f; errors name the file and the field.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { parseCluster, type Cluster } from '../spec/cluster.ts';

export async function loadClusterFile(file: string): Promise<Cluster> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the cluster spec (${code ?? String(e)})`, {
      hint: code === 'ENOENT' ? 'create one with `kubewright init` or pass -f PATH' : 'check the path and its permissions',
    });
  }
  return parseCluster(text, file);
}

// The admin client certificate (O system:masters) and the cluster CA from the PKI directory,
// as `kubewright pki` / `up` wrote them: ca.pem, admin.pem, admin-key.pem.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { barePaths, caFiles, resolvePkiDir } from '../pki/pki-files.ts';
import type { TlsCredential } from '../spec/credentials.ts';
import type { Cluster } from '../spec/cluster.ts';

export interface AdminCredentials {
  caPem: string;
  admin: TlsCredential;
}

export async function readAdminCredentials(cluster: Cluster): Promise<AdminCredentials> {
  const dir = resolvePkiDir(cluster);
  const admin = barePaths(dir, 'admin');
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new InputError(`${file}: cannot read the ${file === admin.key ? 'admin key' : 'certificate'} (${code})`, {
        hint: code === 'ENOENT' ? `create the PKI with \`kubewright up -f ${cluster.sourceFile}\` (or \`kubewright pki\`), or pass --kubeconfig` : 'check the path and its permissions',
      });
    }
  };
  return { caPem: await read(caFiles(dir).cert), admin: { certPem: await read(admin.cert), keyPem: await read(admin.key) } };
}

// The PKI directory on disk: where each file lives, reading what is there, and writing with
// the modes keys need (keys 0600 in 0700 directories, certificates and CSRs 0644), atomically.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../local-disk/atomic-write.ts';
import type { Cluster } from '../spec/cluster.ts';
import { specPath } from '../spec/spec-path.ts';

/** `name.pem`, `name-key.pem`, `name.csr` as `cfssljson -bare name` writes them */
export interface CertPaths {
  cert: string;
  key: string;
  csr: string;
}

export function barePaths(dir: string, name: string): CertPaths {
  const base = resolve(dir, name);
  return { cert: `${base}.pem`, key: `${base}-key.pem`, csr: `${base}.csr` };
}

/** spec `pki.dir`, `~` expanded, relative paths resolved against the spec file's directory. */
export function resolvePkiDir(cluster: Cluster): string {
  return specPath(cluster, cluster.pki.dir);
}

export const caFiles = (dir: string): { cert: string; key: string; config: string } => ({
  cert: join(dir, 'ca.pem'),
  key: join(dir, 'ca-key.pem'),
  config: join(dir, 'ca-config.json'),
});

export const etcdCaFiles = (dir: string): { cert: string; key: string } => ({ cert: join(dir, 'etcd-ca.pem'), key: join(dir, 'etcd-ca-key.pem') });

/** The file's text, or undefined when it does not exist; InputError for anything else. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new InputError(`${file}: cannot read (${code ?? String(e)})`, { hint: 'check the file and its permissions' });
  }
}

export const keyMode = 0o600;
export const certMode = 0o644;
export const dirMode = 0o700;

export async function writeKey(file: string, pem: string): Promise<void> {
  await writeFileAtomic(file, pem, keyMode, dirMode);
}

export async function writePublic(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text, certMode, dirMode);
}

/** Writes a bare triple: key first and certificate last, so a crash in between leaves a pair `issue` repairs. */
export async function writeBare(paths: CertPaths, pems: { certPem: string; keyPem: string; csrPem?: string | undefined }): Promise<void> {
  await writeKey(paths.key, pems.keyPem);
  if (pems.csrPem !== undefined) await writePublic(paths.csr, pems.csrPem);
  await writePublic(paths.cert, pems.certPem);
}

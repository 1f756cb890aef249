// The TLS material kubewright uses to talk to etcd: the CA that signed etcd's serving
// certificate and flannel's client certificate (etcd runs with --client-cert-auth).
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';

export interface EtcdTls {
  caPem: string;
  /** client certificate; etcd with --client-cert-auth rejects connections without one */
  certPem?: string | undefined;
  keyPem?: string | undefined;
}

export interface EtcdTlsFiles {
  ca: string;
  cert?: string | undefined;
  key?: string | undefined;
}

async function readPem(path: string, what: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError(`${path}: cannot read the ${what} (${code})`, {
      hint: code === 'ENOENT' ? `create it with \`kubewright pki\` or pass ${flag} PATH` : 'check the path and its permissions',
    });
  }
}

export async function loadEtcdTls(files: EtcdTlsFiles): Promise<EtcdTls> {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new InputError('etcd client certificate: --etcd-cert and --etcd-key go together', { hint: 'pass both or neither' });
  }
  return {
    caPem: await readPem(files.ca, 'etcd CA certificate', '--etcd-ca'),
    certPem: files.cert === undefined ? undefined : await readPem(files.cert, 'etcd client certificate', '--etcd-cert'),
    keyPem: files.key === undefined ? undefined : await readPem(files.key, 'etcd client key', '--etcd-key'),
  };
}

/** `CN=flannel, issued by CN=kube-ca` for messages; never the key. */
export function describeClientCertificate(tls: EtcdTls): string | undefined {
  if (tls.certPem === undefined) return undefined;
  try {
    const c = new X509Certificate(tls.certPem);
    const oneLine = (dn: string): string => dn.split('\n').filter(Boolean).join(', ');
    return `(${oneLine(c.subject)}, issued by ${oneLine(c.issuer)})`;
  } catch {
    return '(unparseable PEM)';
  }
}

/** The client certificate's CN: the user name etcd's auth sees. */
export function clientCommonName(tls: EtcdTls): string | undefined {
  if (tls.certPem === undefined) return undefined;
  try {
    const cn = new X509Certificate(tls.certPem).subject.split('\n').find((l) => l.startsWith('CN='));
    return cn?.slice(3);
  } catch {
    return undefined;
  }
}

// Certificates for the test etcd cluster, made with openssl as in REAL-INFRA.md §1: an ECDSA
// P-256 CA, etcd's server certificate (SAN IP:127.0.0.1), a client certificate, and a "rogue"
// CA with its own client certificate that etcd must reject.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TestCertificates {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** a CA etcd does not trust, and a client certificate it signed */
  rogueCaPem: string;
  rogueCertPem: string;
  rogueKeyPem: string;
  files: {
    ca: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    rogueCa: string;
    rogueCert: string;
    rogueKey: string;
  };
}

function openssl(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${stderr}`));
      else resolve();
    });
  });
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

async function makeLeaf(dir: string, ca: string, name: string, cn: string, ext: string): Promise<void> {
  await openssl(dir, ['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export async function issueTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await makeCa(dir, 'ca', 'kw-test-etcd-ca');
  await makeCa(dir, 'rogue-ca', 'kw-rogue-ca');
  const leaf = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n';
  await Promise.all([
    makeLeaf(dir, 'ca', 'server', 'etcd-server', `${leaf}extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`),
    makeLeaf(dir, 'ca', 'client', 'flannel', `${leaf}extendedKeyUsage=clientAuth\n`),
    makeLeaf(dir, 'rogue-ca', 'rogue', 'flannel', `${leaf}extendedKeyUsage=clientAuth\n`),
  ]);
  const f = (n: string): string => join(dir, n);
  const files = {
    ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'),
    rogueCa: f('rogue-ca.crt'), rogueCert: f('rogue.crt'), rogueKey: f('rogue.key'),
  };
  const read = (p: string): Promise<string> => readFile(p, 'utf8');
  return {
    caPem: await read(files.ca),
    clientCertPem: await read(files.clientCert),
    clientKeyPem: await read(files.clientKey),
    rogueCaPem: await read(files.rogueCa),
    rogueCertPem: await read(files.rogueCert),
    rogueKeyPem: await read(files.rogueKey),
    files,
  };
}

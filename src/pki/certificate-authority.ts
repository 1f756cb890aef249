// The cluster CA: created like `cfssl gencert -initca`, or imported from the ca.pem/ca-key.pem
// cfssl wrote. A CA whose key doesn't match its certificate, or that has expired, is refused.
import { randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as x509 from '@peculiar/x509';
import { InputError } from '../errors.ts';
import { subjectOf, type CsrName } from './csr-request.ts';
import { describeKeySpec, generatePrivateKey, encodePrivateKeyPem, parsePrivateKeyPem, publicKeyDer, reasonOf, signingAlgorithm, toCryptoKeyPair, type KeySpec, type PrivateKey } from './private-key.ts';
import { useNodeWebCrypto } from './x509-crypto.ts';

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  key: PrivateKey;
  /** where the CA was read from, for messages (undefined for one made in memory) */
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** cfssl's default CA validity (`cfssl gencert -initca`): 5 years */
export const defaultCaExpiryMs = 43_800 * 3_600_000;

/** A random positive 20-byte serial, as cfssl makes them (RFC 5280: at most 20 octets). */
export function randomSerialHex(): string {
  const bytes = randomBytes(20);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** As cfssl: now rounded to the minute, backdated 5 minutes for clock skew; notAfter = notBefore + expiry. */
export function notBeforeFor(now: Date): Date {
  return new Date(Math.round(now.getTime() / 60_000) * 60_000 - 5 * 60_000);
}

/** Parses a PEM certificate; InputError naming the file when it is not one. */
export function parseCertificatePem(pem: string, file: string): x509.X509Certificate {
  const lib = useNodeWebCrypto();
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InputError(`${file}: not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`, { hint: 'point it at the certificate (e.g. ca.pem), not the key or CSR' });
  }
  try {
    const cert = new lib.X509Certificate(pem);
    // @peculiar/x509 parses lazily in places; Node's parser rejects truncated or altered DER
    new NodeX509(pem);
    return cert;
  } catch (e) {
    throw new InputError(`${file}: corrupt PEM certificate (${reasonOf(e)})`, { hint: 'replace the file with an intact copy' });
  }
}

export interface CaCheckOptions {
  now?: Date | undefined;
}

/** Checks a CA certificate and key and returns the CA; InputError naming the file for every problem. */
export function loadCertificateAuthority(
  input: { certPem: string; keyPem: string; certFile: string; keyFile: string },
  opts: CaCheckOptions = {},
): CertificateAuthority {
  const lib = useNodeWebCrypto();
  const now = opts.now ?? new Date();
  const cert = parseCertificatePem(input.certPem, input.certFile);
  const key = parsePrivateKeyPem(input.keyPem, input.keyFile);
  const bc = cert.getExtension(lib.BasicConstraintsExtension);
  if (!bc?.ca) {
    throw new InputError(`${input.certFile}: not a CA certificate (basic constraints CA:FALSE or missing)`, { hint: 'import the CA cfssl made with `cfssl gencert -initca` (ca.pem), not a leaf certificate' });
  }
  if (!Buffer.from(cert.publicKey.rawData).equals(publicKeyDer(key.keyObject))) {
    throw new InputError(`${input.keyFile}: CA key does not match the CA certificate ${input.certFile}`, { hint: 'pass the ca-key.pem that belongs to this ca.pem' });
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw new InputError(`${input.certFile}: CA certificate expired on ${cert.notAfter.toISOString()}`, { hint: 'create a new CA with `kubewright pki init --force` (every certificate is then re-issued)' });
  }
  if (cert.notBefore.getTime() > now.getTime()) {
    throw new InputError(`${input.certFile}: CA certificate is not valid before ${cert.notBefore.toISOString()}`, { hint: 'check the clock of this machine' });
  }
  return { certPem: input.certPem, keyPem: input.keyPem, cert, key, certFile: input.certFile, keyFile: input.keyFile };
}

/** Reads and checks ca.pem + ca-key.pem (any of cfssl's or openssl's key encodings). */
export async function readCertificateAuthority(certFile: string, keyFile: string, opts: CaCheckOptions = {}): Promise<CertificateAuthority> {
  const [certPem, keyPem] = await Promise.all([readText(certFile, 'CA certificate'), readText(keyFile, 'CA key')]);
  return loadCertificateAuthority({ certPem, keyPem, certFile, keyFile }, opts);
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? reasonOf(e);
    throw new InputError(`${file}: cannot read the ${what} (${code})`, { hint: 'check the path and its permissions' });
  }
}

export interface NewCaOptions {
  commonName?: string | undefined;
  names?: CsrName[] | undefined;
  key?: KeySpec | undefined;
  expiryMs?: number | undefined;
  now?: Date | undefined;
}

/** A new self-signed CA as `cfssl gencert -initca` makes it: CA:TRUE, cert sign + CRL sign, SKI. */
export async function createCertificateAuthority(opts: NewCaOptions = {}): Promise<CertificateAuthority> {
  const lib = useNodeWebCrypto();
  const now = opts.now ?? new Date();
  const key = await generatePrivateKey(opts.key ?? { algo: 'ecdsa', size: 256 });
  const keys = await toCryptoKeyPair(key);
  const name = new lib.Name(subjectOf({ CN: opts.commonName ?? 'kubernetes', names: opts.names }));
  const notBefore = notBeforeFor(now);
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: name,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (opts.expiryMs ?? defaultCaExpiryMs)),
    signingAlgorithm: signingAlgorithm(key.spec),
    publicKey: keys.publicKey as never,
    signingKey: keys.privateKey as never,
    extensions: [
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      new lib.BasicConstraintsExtension(true, undefined, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: encodePrivateKeyPem(key.keyObject), cert, key };
}

export function describeCa(ca: CertificateAuthority): string {
  return `${ca.cert.subject} (${describeKeySpec(ca.key.spec)}), valid until ${ca.cert.notAfter.toISOString().slice(0, 10)}`;
}

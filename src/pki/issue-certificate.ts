// Issues one certificate the way `cfssl gencert -ca ca.pem -ca-key ca-key.pem -config
// ca-config.json -profile P csr.json | cfssljson -bare name` does: a fresh key, a CSR, and a
// certificate with the profile's usages, CA:FALSE, SKI/AKI and the hosts as SANs.
import type * as x509 from '@peculiar/x509';
import type { CertificateAuthority } from './certificate-authority.ts';
import { notBeforeFor, randomSerialHex } from './certificate-authority.ts';
import { defaultKeySpec, sansOf, subjectOf, type CsrRequest } from './csr-request.ts';
import { encodePrivateKeyPem, generatePrivateKey, signingAlgorithm, toCryptoKeyPair } from './private-key.ts';
import { kubernetesProfile, usagesOf, type SigningProfile } from './signing-profile.ts';
import { useNodeWebCrypto } from './x509-crypto.ts';

export interface IssuedCertificate {
  /** `name.pem` */
  certPem: string;
  /** `name-key.pem` (SEC1 for ECDSA, PKCS#1 for RSA, as cfssljson writes them) */
  keyPem: string;
  /** `name.csr` */
  csrPem: string;
  cert: x509.X509Certificate;
}

export interface IssueOptions {
  now?: Date | undefined;
}

/**
 * Issues a certificate for a cfssl CSR request, signed by `ca`, valid for the profile's expiry
 * (never past the CA's own expiry). Server certificates: put DNS names and IPs in `hosts`
 * and use a profile with "server auth" (the default kubernetes profile has both server and client auth).
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  request: CsrRequest,
  profile: SigningProfile = kubernetesProfile,
  opts: IssueOptions = {},
): Promise<IssuedCertificate> {
  const lib = useNodeWebCrypto();
  const now = opts.now ?? new Date();
  const key = await generatePrivateKey(request.key ?? defaultKeySpec);
  const keys = await toCryptoKeyPair(key);
  const subject = new lib.Name(subjectOf(request));
  const sans = sansOf(request.hosts);
  const sanExtension = sans.length > 0 ? [new lib.SubjectAlternativeNameExtension(sans)] : [];

  const csr = await lib.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: keys as never,
    signingAlgorithm: signingAlgorithm(key.spec),
    extensions: sanExtension,
  });

  const { keyUsage, extKeyUsage } = usagesOf(profile);
  const caKeys = await toCryptoKeyPair(ca.key);
  const ski = ca.cert.getExtension(lib.SubjectKeyIdentifierExtension);
  const notBefore = notBeforeFor(now);
  const wanted = notBefore.getTime() + profile.expiryMs;
  const extensions: x509.Extension[] = [];
  if (keyUsage !== 0) extensions.push(new lib.KeyUsagesExtension(keyUsage, true));
  if (extKeyUsage.length > 0) extensions.push(new lib.ExtendedKeyUsageExtension(extKeyUsage, false));
  extensions.push(new lib.BasicConstraintsExtension(false, undefined, true));
  extensions.push(await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as never));
  extensions.push(ski ? new lib.AuthorityKeyIdentifierExtension(ski.keyId) : await lib.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as never));
  extensions.push(...sanExtension);

  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject,
    issuer: ca.cert.subjectName,
    notBefore,
    // a certificate can't outlive its CA
    notAfter: new Date(Math.min(wanted, ca.cert.notAfter.getTime())),
    signingAlgorithm: signingAlgorithm(ca.key.spec),
    publicKey: keys.publicKey as never,
    signingKey: caKeys.privateKey as never,
    extensions,
  });
  return {
    certPem: `${cert.toString('pem')}\n`,
    keyPem: encodePrivateKeyPem(key.keyObject),
    csrPem: `${csr.toString('pem')}\n`,
    cert,
  };
}

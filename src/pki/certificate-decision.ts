// Whether an existing certificate still fits the spec: keep it, or say why it must be (re-)issued.
// Pure: reads nothing and writes nothing, so `plan` can show the same decisions `issue` acts on.
import { createPublicKey, X509Certificate as NodeX509 } from 'node:crypto';
import type * as x509 from '@peculiar/x509';
import type { CertificateAuthority } from './certificate-authority.ts';
import { parseCertificatePem } from './certificate-authority.ts';
import { defaultKeySpec, sanKey, sansOf, subjectOf, type CsrRequest, type SanType } from './csr-request.ts';
import { formatDuration } from './duration.ts';
import { describeKeySpec, keySpecOf, parsePrivateKeyPem, publicKeyDer } from './private-key.ts';
import { usagesOf, type SigningProfile } from './signing-profile.ts';
import { useNodeWebCrypto } from './x509-crypto.ts';

export type CertAction = 'keep' | 'issue' | 'reissue';

/** What `issue` does (or `plan` says it would do) with one certificate, and why. */
export interface CertDecision {
  /** the cfssljson -bare name under the PKI directory, e.g. `kube-proxy`, `nodes/w1/kubelet` */
  name: string;
  action: CertAction;
  reason: string;
  /** when the certificate on disk expires (absent when there is none, or it could not be read) */
  notAfter?: string | undefined;
  /** whole days until then, negative once expired */
  daysLeft?: number | undefined;
  /** it expires within the renewal threshold, or has expired */
  expiring?: boolean | undefined;
}

/** Renew this long before expiry by default. */
export const defaultRenewThresholdMs = 30 * 86_400_000;

export interface ExistingCertificate {
  certPem: string | undefined;
  keyPem: string | undefined;
  certFile: string;
  keyFile: string;
}

export interface DecideOptions {
  now?: Date | undefined;
  thresholdMs?: number | undefined;
}

/** The expiry fields of a decision about a certificate that expires at `notAfter`. */
export function expiryOf(notAfter: Date, now: Date, thresholdMs: number = defaultRenewThresholdMs): Pick<CertDecision, 'notAfter' | 'daysLeft' | 'expiring'> {
  const left = notAfter.getTime() - now.getTime();
  return { notAfter: notAfter.toISOString(), daysLeft: Math.floor(left / 86_400_000), expiring: left < thresholdMs };
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

function sanKeysOf(cert: x509.X509Certificate): string[] {
  const lib = useNodeWebCrypto();
  const ext = cert.getExtension(lib.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.toJSON().map((n) => sanKey({ type: n.type as SanType, value: n.value }));
}

/** Decides keep / issue / reissue for one certificate against the request it should satisfy. */
export function decideCertificate(
  name: string,
  existing: ExistingCertificate,
  desired: { request: CsrRequest; profile: SigningProfile },
  ca: CertificateAuthority,
  opts: DecideOptions = {},
): CertDecision {
  const lib = useNodeWebCrypto();
  const now = opts.now ?? new Date();
  const threshold = opts.thresholdMs ?? defaultRenewThresholdMs;
  let expiry: Pick<CertDecision, 'notAfter' | 'daysLeft' | 'expiring'> = {};
  const d = (action: CertAction, reason: string): CertDecision => ({ name, action, reason, ...expiry });

  if (existing.certPem === undefined) return d('issue', existing.keyPem === undefined ? 'no certificate yet' : 'certificate file missing');
  if (existing.keyPem === undefined) return d('reissue', `key file ${existing.keyFile} missing`);
  const cert = parseCertificatePem(existing.certPem, existing.certFile);
  const key = parsePrivateKeyPem(existing.keyPem, existing.keyFile);
  const left = cert.notAfter.getTime() - now.getTime();
  expiry = expiryOf(cert.notAfter, now, threshold);
  const daysLeft = expiry.daysLeft!;

  if (!Buffer.from(cert.publicKey.rawData).equals(publicKeyDer(key.keyObject))) return d('reissue', 'key does not match the certificate');

  let signedByCa = cert.issuer === ca.cert.subject;
  if (signedByCa) {
    try {
      signedByCa = new NodeX509(existing.certPem).verify(createPublicKey(ca.certPem));
    } catch {
      signedByCa = false;
    }
  }
  if (!signedByCa) return d('reissue', 'not signed by the current CA');

  const wantSubject = new lib.Name(subjectOf(desired.request)).toString();
  if (cert.subject !== wantSubject) return d('reissue', `subject differs: has "${cert.subject}", want "${wantSubject}"`);

  const have = new Set(sanKeysOf(cert));
  const want = new Set(sansOf(desired.request.hosts).map(sanKey));
  const missing = [...want].filter((s) => !have.has(s));
  const extra = [...have].filter((s) => !want.has(s));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `no longer wanted ${extra.join(', ')}` : ''].filter(Boolean);
    return d('reissue', `SANs differ: ${parts.join('; ')}`);
  }

  const wantKey = desired.request.key ?? defaultKeySpec;
  const haveKey = keySpecOf(createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' }));
  if (!haveKey || haveKey.algo !== wantKey.algo || haveKey.size !== wantKey.size) {
    return d('reissue', `key is ${haveKey ? describeKeySpec(haveKey) : 'of another type'}, want ${describeKeySpec(wantKey)}`);
  }

  const { keyUsage, extKeyUsage } = usagesOf(desired.profile);
  const haveKu = cert.getExtension(lib.KeyUsagesExtension)?.usages ?? 0;
  const haveEku = (cert.getExtension(lib.ExtendedKeyUsageExtension)?.usages ?? []).map(String).sort();
  if (haveKu !== keyUsage || haveEku.join() !== [...extKeyUsage].sort().join()) {
    return d('reissue', `key usages differ from the signing profile (${desired.profile.usages.join(', ')})`);
  }

  if (left <= 0) return d('reissue', `expired on ${day(cert.notAfter)} (${-daysLeft} ${-daysLeft === 1 ? 'day' : 'days'} ago)`);
  const leftText = `${daysLeft} ${daysLeft === 1 ? 'day' : 'days'} left`;
  if (left < threshold) {
    // a certificate can't outlive its CA: re-issuing would not help, so keep it and point at the CA
    if (cert.notAfter.getTime() >= ca.cert.notAfter.getTime()) {
      return d('keep', `expires with the CA on ${day(cert.notAfter)} (${leftText}) — renew the CA (see CA rotation in docs/pki.md)`);
    }
    return d('reissue', `expires on ${day(cert.notAfter)} (${leftText}), within the ${formatDuration(threshold)} threshold`);
  }
  return d('keep', `valid until ${day(cert.notAfter)} (${leftText})`);
}

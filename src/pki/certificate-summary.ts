// What a reviewer checks in a certificate, for plan output instead of its base64: subject,
// issuer, SANs, validity, key type — and on a change, which of them differ. Node's own X.509
// parser (no heavy library: plan output stays cheap). Certificates are public; keys never reach this.
import { X509Certificate } from 'node:crypto';

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CertificateFacts {
  subject: string;
  issuer: string;
  sans: string;
  validity: string;
  key: string;
  serial: string;
}

/** Whether the text holds at least one PEM certificate (and nothing that looks like a private key). */
export function isCertificatePem(text: string | undefined): boolean {
  return text !== undefined && /-----BEGIN CERTIFICATE-----/.test(text) && !/PRIVATE KEY-----/.test(text);
}

/** `C=US\nO=x\nCN=y` (Node's form) as `CN=y, O=x, C=US` (most specific first, as openssl -nameopt RFC2253 reads). */
function distinguishedName(dn: string): string {
  return dn.split('\n').filter(Boolean).reverse().join(', ');
}

function keyDescription(cert: X509Certificate): string {
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  switch (k.asymmetricKeyType) {
    case 'ec':
      return `ECDSA ${d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : d.namedCurve === 'secp521r1' ? 'P-521' : (d.namedCurve ?? '?')}`;
    case 'rsa':
      return `RSA ${d.modulusLength ?? '?'}`;
    default:
      return (k.asymmetricKeyType ?? 'unknown').toUpperCase();
  }
}

export function certificateFacts(pem: string): CertificateFacts[] {
  return [...pem.matchAll(pemBlock)].map((m) => {
    const c = new X509Certificate(m[0]);
    return {
      subject: distinguishedName(c.subject),
      issuer: distinguishedName(c.issuer),
      sans: c.subjectAltName ?? 'none',
      validity: `${new Date(c.validFrom).toISOString()} → ${new Date(c.validTo).toISOString()}`,
      key: keyDescription(c),
      serial: c.serialNumber,
    };
  });
}

const labels: [keyof CertificateFacts, string][] = [['subject', 'subject'], ['issuer', 'issuer'], ['sans', 'SANs'], ['validity', 'valid'], ['key', 'key'], ['serial', 'serial']];

/** Lines describing a new certificate file, or what differs between the old and the new one. */
export function certificateDiffLines(before: string | undefined, after: string | undefined): string[] {
  const olds = before && isCertificatePem(before) ? safeFacts(before) : [];
  const news = after && isCertificatePem(after) ? safeFacts(after) : [];
  const lines: string[] = [];
  const n = Math.max(olds.length, news.length);
  for (let i = 0; i < n; i++) {
    const o = olds[i];
    const w = news[i];
    const head = n > 1 ? `certificate ${i + 1} of ${n}` : 'certificate';
    if (!o && w) {
      lines.push(`${head} (new):`);
      for (const [k, label] of labels) lines.push(`  ${label} ${w[k]}`);
    } else if (o && !w) {
      lines.push(`${head} (removed): subject ${o.subject}`);
    } else if (o && w) {
      const differing = labels.filter(([k]) => o[k] !== w[k]);
      if (differing.length === 0) {
        lines.push(`${head}: same fields (re-encoded)`);
        continue;
      }
      lines.push(`${head} (changed: ${differing.map(([, l]) => l).join(', ')}):`);
      for (const [k, label] of labels) {
        if (o[k] === w[k]) lines.push(`  ${label} ${w[k]}`);
        else lines.push(`- ${label} ${o[k]}`, `+ ${label} ${w[k]}`);
      }
    }
  }
  return lines;
}

function safeFacts(pem: string): CertificateFacts[] {
  try {
    return certificateFacts(pem);
  } catch {
    return [];
  }
}

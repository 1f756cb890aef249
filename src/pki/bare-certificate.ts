// One cfssljson-bare certificate kept in step with its request: decide, then (unless planning)
// issue and write. Keeping writes nothing, so re-running changes no bytes on disk.
import type { CertificateAuthority } from './certificate-authority.ts';
import { decideCertificate, type CertDecision, type DecideOptions } from './certificate-decision.ts';
import type { CsrRequest } from './csr-request.ts';
import { issueCertificate } from './issue-certificate.ts';
import { readOptional, writeBare, type CertPaths } from './pki-files.ts';
import type { SigningProfile } from './signing-profile.ts';

export interface BareResult {
  decision: CertDecision;
  certPem: string | undefined;
  keyPem: string | undefined;
}

/**
 * `ca` undefined means the CA is about to be created: every certificate will be (re-)issued.
 * With `write: false` nothing is issued or written (plan).
 */
export async function ensureBareCertificate(
  name: string,
  paths: CertPaths,
  request: CsrRequest,
  profile: SigningProfile,
  ca: CertificateAuthority | undefined,
  opts: DecideOptions & { write: boolean },
): Promise<BareResult> {
  const [certPem, keyPem] = await Promise.all([readOptional(paths.cert), readOptional(paths.key)]);
  const decision: CertDecision = ca
    ? decideCertificate(name, { certPem, keyPem, certFile: paths.cert, keyFile: paths.key }, { request, profile }, ca, opts)
    : certPem === undefined
      ? { name, action: 'issue', reason: 'no certificate yet' }
      : { name, action: 'reissue', reason: 'not signed by the current CA (a new CA will be created)' };
  if (decision.action === 'keep' || !opts.write || !ca) return { decision, certPem, keyPem };
  const issued = await issueCertificate(ca, request, profile, { now: opts.now });
  await writeBare(paths, issued);
  return { decision, certPem: issued.certPem, keyPem: issued.keyPem };
}

// Rotating the cluster CA with a window in which nodes trust both CAs, in three stages, each
// followed by an apply (docs/pki.md, "CA rotation"):
//   trust   a new CA is made beside the current one (ca-next.pem); nodes trust both, nothing is re-signed
//   switch  the new CA signs from now on (ca.pem), the old one stays trusted (ca-previous.pem); every
//           certificate is re-issued by the next `pki issue` or apply
//   finish  the old CA is no longer trusted
// The CA files rendered to nodes are the bundle trustedCaPems() returns. Writes only under pki.dir.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { createCertificateAuthority, describeCa } from './certificate-authority.ts';
import { expiryOf, type CertDecision } from './certificate-decision.ts';
import { backupCa, caCommonName, readCaPair, readClusterCa } from './cluster-ca.ts';
import { subjectNames } from './cluster-certificates.ts';
import { caFiles, readOptional, writeKey, writePublic } from './pki-files.ts';
import type { Cluster } from '../spec/cluster.ts';

export const rotationStages = ['trust', 'switch', 'finish'] as const;
export type RotationStage = (typeof rotationStages)[number];

export const caRotationFiles = (dir: string): { nextCert: string; nextKey: string; previous: string } => ({
  nextCert: join(dir, 'ca-next.pem'),
  nextKey: join(dir, 'ca-next-key.pem'),
  previous: join(dir, 'ca-previous.pem'),
});

/** The CA certificates nodes trust besides ca.pem during a rotation (ca-next.pem, ca-previous.pem), with what to say about each. */
export async function rotationTrust(dir: string, now: Date = new Date()): Promise<{ pems: string[]; decisions: CertDecision[] }> {
  const files = caRotationFiles(dir);
  const [next, previous] = await Promise.all([readCaPair({ cert: files.nextCert, key: files.nextKey }, 'restore the missing file, or remove both and run `kubewright pki rotate-ca --stage trust` again', now), readOptional(files.previous)]);
  const pems: string[] = [];
  const decisions: CertDecision[] = [];
  if (next) {
    const ca = next;
    pems.push(ca.certPem);
    decisions.push({ name: 'ca-next', action: 'keep', reason: `${describeCa(ca)}: trusted beside ca (CA rotation, stage trust) — once every node has it, run \`kubewright pki rotate-ca --stage switch\``, ...expiryOf(ca.cert.notAfter, now) });
  }
  if (previous !== undefined) {
    pems.push(previous);
    decisions.push({ name: 'ca-previous', action: 'keep', reason: 'the old CA, still trusted (CA rotation, stage switch) — once every node has its new certificates, run `kubewright pki rotate-ca --stage finish`' });
  }
  return { pems, decisions };
}

/** The CA bundle nodes trust: the signing CA first, then the rotation's other CA, if any. */
export function trustBundle(caPem: string, others: readonly string[]): string {
  return [caPem, ...others].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}

const inProgress = (what: string, stage: RotationStage): InputError =>
  new InputError(`pki rotate-ca --stage ${stage}: ${what}`, { hint: 'the stages go trust → apply → switch → pki issue + apply → finish → apply; `kubewright pki plan` shows where the rotation stands' });

/** Runs one stage; returns what it did, for the same output as `pki issue`. */
export async function rotateClusterCa(cluster: Cluster, dir: string, stage: RotationStage, opts: { now?: Date | undefined; expiryMs?: number | undefined } = {}): Promise<CertDecision[]> {
  const now = opts.now ?? new Date();
  const files = caRotationFiles(dir);
  const current = await readClusterCa(dir, now);
  if (!current) throw new InputError(`${caFiles(dir).cert}: no CA to rotate`, { hint: 'create one with `kubewright pki init`' });
  const next = await readCaPair({ cert: files.nextCert, key: files.nextKey }, 'restore the missing file, or remove both and run `--stage trust` again', now);
  const previous = await readOptional(files.previous);

  if (stage === 'trust') {
    if (previous !== undefined) throw inProgress(`${files.previous} exists: a rotation is past its switch stage`, stage);
    if (next) return [{ name: 'ca-next', action: 'keep', reason: `${describeCa(next)}: already made, trusted beside ca` }];
    // a CN of its own: clients that pick an issuer by subject never confuse the two CAs
    const made = await createCertificateAuthority({ commonName: `${caCommonName} ${now.toISOString().slice(0, 10)}`, names: subjectNames(cluster), key: current.key.spec, expiryMs: opts.expiryMs, now });
    await writeKey(files.nextKey, made.keyPem);
    await writePublic(files.nextCert, made.certPem);
    return [{ name: 'ca-next', action: 'issue', reason: `new ${describeCa(made)}, trusted beside ca; nothing re-signed yet — next: apply, so every node trusts both` }];
  }
  if (stage === 'switch') {
    if (!next) {
      if (previous !== undefined) return [{ name: 'ca', action: 'keep', reason: `${describeCa(current)}: already switched; ${files.previous} still trusted` }];
      throw inProgress(`no ${files.nextCert}: run --stage trust (and apply) first`, stage);
    }
    const kept = await backupCa(dir, { cert: current.certPem, key: current.keyPem }, now);
    await writePublic(files.previous, current.certPem);
    await writeKey(caFiles(dir).key, next.keyPem);
    await writePublic(caFiles(dir).cert, next.certPem);
    await rm(files.nextCert, { force: true });
    await rm(files.nextKey, { force: true });
    return [
      { name: 'ca', action: 'reissue', reason: `now ${describeCa(next)}; the old CA is kept in ${kept} — next: \`kubewright pki issue\` re-issues every certificate, then apply` },
      { name: 'ca-previous', action: 'issue', reason: 'the old CA certificate, still trusted until --stage finish' },
    ];
  }
  if (next) throw inProgress(`${files.nextCert} exists: run --stage switch first`, stage);
  if (previous === undefined) return [{ name: 'ca-previous', action: 'keep', reason: 'none: no rotation in progress' }];
  await rm(files.previous, { force: true });
  return [{ name: 'ca-previous', action: 'reissue', reason: 'no longer trusted (removed; the old CA pair stays in backup/) — next: apply' }];
}

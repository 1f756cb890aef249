// keep / issue / reissue decided against the request, with reasons a person can act on.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { createCertificateAuthority, type CertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { decideCertificate, type ExistingCertificate } from '../../src/pki/certificate-decision.ts';
import type { CsrRequest } from '../../src/pki/csr-request.ts';
import { issueCertificate, type IssuedCertificate } from '../../src/pki/issue-certificate.ts';
import { kubernetesProfile } from '../../src/pki/signing-profile.ts';

let ca: CertificateAuthority;
let issued: IssuedCertificate;
const request: CsrRequest = { CN: 'system:node:w1', hosts: ['w1', '203.0.113.10', '10.0.0.10'], key: { algo: 'ecdsa', size: 256 }, names: [{ O: 'system:nodes' }] };
const want = { request, profile: kubernetesProfile };

const existing = (c: IssuedCertificate): ExistingCertificate => ({ certPem: c.certPem, keyPem: c.keyPem, certFile: 'w1.pem', keyFile: 'w1-key.pem' });

before(async () => {
  ca = await createCertificateAuthority();
  issued = await issueCertificate(ca, request);
});

test('a certificate that matches its request is kept, whatever the order of its hosts', () => {
  assert.equal(decideCertificate('w1', existing(issued), want, ca).action, 'keep');
  fc.assert(
    fc.property(fc.shuffledSubarray(request.hosts ?? [], { minLength: 3, maxLength: 3 }), (hosts) => decideCertificate('w1', existing(issued), { ...want, request: { ...request, hosts } }, ca).action === 'keep'),
  );
});

test('missing files mean issue, or reissue when only the key is gone', () => {
  assert.deepEqual(decideCertificate('w1', { ...existing(issued), certPem: undefined, keyPem: undefined }, want, ca), { name: 'w1', action: 'issue', reason: 'no certificate yet' });
  assert.match(decideCertificate('w1', { ...existing(issued), keyPem: undefined }, want, ca).reason, /key file w1-key\.pem missing/);
});

test('a changed subject is re-issued and the reason shows both subjects', () => {
  const d = decideCertificate('w1', existing(issued), { ...want, request: { ...request, CN: 'system:node:w9' } }, ca);
  assert.equal(d.action, 'reissue');
  assert.equal(d.reason, 'subject differs: has "O=system:nodes, CN=system:node:w1", want "O=system:nodes, CN=system:node:w9"');
});

test('a different key type or signing profile is re-issued', () => {
  assert.match(decideCertificate('w1', existing(issued), { ...want, request: { ...request, key: { algo: 'ecdsa', size: 384 } } }, ca).reason, /key is ecdsa-256, want ecdsa-384/);
  const clientOnly = { usages: ['signing', 'client auth'], expiryMs: kubernetesProfile.expiryMs };
  assert.match(decideCertificate('w1', existing(issued), { ...want, profile: clientOnly }, ca).reason, /key usages differ from the signing profile \(signing, client auth\)/);
});

test('a certificate from another CA is re-issued', async () => {
  const other = await createCertificateAuthority();
  const d = decideCertificate('w1', existing(issued), want, other);
  assert.deepEqual([d.name, d.action, d.reason], ['w1', 'reissue', 'not signed by the current CA']);
});

test('a certificate that would outlive its CA is cut at the CA expiry and then kept with a hint to renew the CA', async () => {
  const shortCa = await createCertificateAuthority({ expiryMs: 10 * 86_400_000 });
  const c = await issueCertificate(shortCa, request);
  assert.equal(c.cert.notAfter.getTime(), shortCa.cert.notAfter.getTime());
  const d = decideCertificate('w1', existing(c), want, shortCa);
  assert.equal(d.action, 'keep');
  assert.match(d.reason, /expires with the CA on .* renew the CA/);
});

test('an expired certificate is re-issued', () => {
  const d = decideCertificate('w1', existing(issued), want, ca, { now: new Date(Date.now() + 400 * 86_400_000) });
  assert.equal(d.action, 'reissue');
  assert.match(d.reason, /^expired on \d{4}-\d\d-\d\d \(3[56] days ago\)$/);
  assert.ok(d.daysLeft !== undefined && d.daysLeft < 0 && d.expiring === true);
});

test('a decision carries the days left and whether they fall within the threshold', () => {
  const at = (days: number): Date => new Date(issued.cert.notAfter.getTime() - days * 86_400_000 - 1000);
  const soon = decideCertificate('w1', existing(issued), want, ca, { now: at(12) });
  assert.deepEqual([soon.action, soon.daysLeft, soon.expiring, soon.notAfter], ['reissue', 12, true, issued.cert.notAfter.toISOString()]);
  assert.match(soon.reason, /\(12 days left\), within the 30d threshold$/);
  const later = decideCertificate('w1', existing(issued), want, ca, { now: at(45) });
  assert.deepEqual([later.action, later.daysLeft, later.expiring], ['keep', 45, false]);
  assert.match(later.reason, /^valid until \d{4}-\d\d-\d\d \(45 days left\)$/);
  const wide = decideCertificate('w1', existing(issued), want, ca, { now: at(45), thresholdMs: 60 * 86_400_000 });
  assert.deepEqual([wide.action, wide.expiring], ['reissue', true]);
});

test('P-384 and P-521 keys are issued and signed as Go would sign them', async () => {
  const ca521 = await createCertificateAuthority({ key: { algo: 'ecdsa', size: 521 } });
  const c = await issueCertificate(ca521, { CN: 'x', key: { algo: 'ecdsa', size: 384 } });
  assert.equal(c.cert.signatureAlgorithm.hash.name, 'SHA-512');
  assert.equal(decideCertificate('x', existing(c), { request: { CN: 'x', key: { algo: 'ecdsa', size: 384 } }, profile: kubernetesProfile }, ca521).action, 'keep');
});

// Certificates in plan output (issue 17): a reviewer sees subject, issuer, SANs, validity and key
// type — and on a change what differs — instead of base64. The certificates are made by openssl,
// and openssl's own reading of them is what the plan lines are checked against.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Action } from '../../src/phases/phase.ts';
import { fileDiff, planText } from '../../src/run/plan-report.ts';
import type { HostOutcome } from '../../src/run/run-hosts.ts';

const run = promisify(execFile);
let dir = '';
const pem: Record<string, string> = {};

async function openssl(...args: string[]): Promise<string> {
  return (await run('openssl', args, { cwd: dir })).stdout;
}

async function leaf(name: string, cn: string, o: string, san: string, days: number): Promise<void> {
  await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-subj', `/O=${o}/CN=${cn}`, '-out', `${name}.csr`);
  await writeFile(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  pem[name] = await readFile(join(dir, `${name}.pem`), 'utf8');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-plan-certs-'));
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-subj', '/CN=kubernetes', '-days', '30', '-out', 'ca.pem');
  pem['ca'] = await readFile(join(dir, 'ca.pem'), 'utf8');
  await leaf('w0', 'system:node:w0', 'system:nodes', 'DNS:w0,IP:10.0.0.10', 365);
  await leaf('w0-moved', 'system:node:w0', 'system:nodes', 'DNS:w0,IP:10.0.0.99', 365);
});
after(() => rm(dir, { recursive: true, force: true }));

function writeAction(path: string, status: 'create' | 'update', contents: string, secret = false): Action {
  return {
    host: 'w0', phase: 'files', kind: 'write-file', summary: `write ${path}`, reasons: [],
    change: { path, status, mode: 0o644, contents, secret, oldSha256: secret ? 'a'.repeat(64) : undefined, newSha256: secret ? 'b'.repeat(64) : undefined },
    apply: async () => undefined,
  };
}

/** openssl's reading of a certificate: the judge the plan lines are compared with. */
async function judged(name: string): Promise<{ subject: string; issuer: string; notBefore: string; notAfter: string }> {
  const out = await openssl('x509', '-in', `${name}.pem`, '-noout', '-subject', '-issuer', '-startdate', '-enddate', '-nameopt', 'RFC2253');
  const field = (k: string): string => new RegExp(`^${k}=\\s*(.*)$`, 'm').exec(out)![1]!.trim();
  return { subject: field('subject'), issuer: field('issuer'), notBefore: new Date(field('notBefore')).toISOString(), notAfter: new Date(field('notAfter')).toISOString() };
}

const base64Line = /^[A-Za-z0-9+/=]{40,}$/m;

test('a new certificate shows subject, issuer, SANs, validity and key type as openssl reads them, no base64', async () => {
  const d = fileDiff(writeAction('/etc/kubernetes/pki/kubelet.pem', 'create', pem['w0']!), new Map())!;
  const j = await judged('w0');
  assert.match(d, /certificate \(new\):/);
  // openssl's RFC 2253 form without the space after each comma
  assert.ok(d.includes(`subject ${j.subject.replace(/,/g, ', ')}`), d);
  assert.ok(d.includes(`issuer ${j.issuer.replace(/,/g, ', ')}`), d);
  assert.ok(d.includes('SANs DNS:w0, IP Address:10.0.0.10'), d);
  assert.ok(d.includes(`valid ${j.notBefore} → ${j.notAfter}`), d);
  assert.ok(d.includes('key ECDSA P-256'), d);
  assert.doesNotMatch(d, base64Line);
  const ca = fileDiff(writeAction('/etc/kubernetes/pki/ca.pem', 'create', pem['ca']!), new Map())!;
  assert.ok(ca.includes('key RSA 2048'), ca);
});

test('a changed certificate says which fields differ, with the old and new value of each', () => {
  const d = fileDiff(writeAction('/etc/kubernetes/pki/kubelet.pem', 'update', pem['w0-moved']!), new Map([['/etc/kubernetes/pki/kubelet.pem', pem['w0']!]]))!;
  // (both were signed within the same second or two: validity may differ too)
  assert.match(d, /certificate \(changed: SANs, (valid, )?serial\):/);
  assert.ok(d.includes('- SANs DNS:w0, IP Address:10.0.0.10'), d);
  assert.ok(d.includes('+ SANs DNS:w0, IP Address:10.0.0.99'), d);
  assert.match(d, /^ {2}subject CN=system:node:w0, O=system:nodes$/m);
  assert.doesNotMatch(d, /^[-+] subject/m, 'an unchanged field is not marked');
  assert.doesNotMatch(d, base64Line);
});

test('in plan text every certificate line starts with the host, and private keys stay redacted', () => {
  const outcome = {
    host: 'w0', status: 'changed', durationMs: 1, applied: 0,
    plan: { facts: { os: 'debian', arch: 'amd64' }, actions: [writeAction('/etc/kubernetes/pki/kubelet.pem', 'create', pem['w0']!), writeAction('/etc/kubernetes/pki/kubelet-key.pem', 'update', 'ignored', true)] },
    oldContents: new Map<string, string>(),
  } as unknown as HostOutcome;
  const lines = planText([outcome]);
  assert.ok(lines.every((l) => l.startsWith('w0: ')));
  assert.ok(lines.some((l) => /^w0: {7}\s*subject CN=system:node:w0/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('/etc/kubernetes/pki/kubelet-key.pem: <redacted sha256:aaaaaaaaaaaa…> → <redacted sha256:bbbbbbbbbbbb…>')), lines.join('\n'));
  assert.ok(!lines.some((l) => l.includes('PRIVATE KEY') || l.includes('BEGIN CERTIFICATE')));
});

// Bad inputs end with exit 2 and a message that names the file and the reason, never key material.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { modernSpec, workspace, type Workspace } from './pki-workspace.ts';

let ws: Workspace;
let other: { cert: string; key: string };

before(async () => {
  ws = await workspace('bad');
  await ws.writeSpec(modernSpec());
  const ca = await createCertificateAuthority({ commonName: 'other' });
  other = { cert: join(ws.dir, 'other-ca.pem'), key: join(ws.dir, 'other-ca-key.pem') };
  await writeFile(other.cert, ca.certPem);
  await writeFile(other.key, ca.keyPem);
});
after(() => ws.cleanup());

function assertBadInput(r: CliResult, file: string, reason: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.ok(r.stderr.includes(file), `stderr names ${file}: ${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.doesNotMatch(r.stderr + r.stdout, /[A-Za-z0-9+/]{40,}/, 'no PEM body (key material) in the output');
}

/** A fresh PKI directory for one case, with a CA made by kubewright. */
async function freshPki(name: string): Promise<{ spec: string; pki: string }> {
  const dir = join(ws.dir, name);
  await mkdir(dir);
  const spec = join(dir, 'cluster.yaml');
  await writeFile(spec, modernSpec());
  const r = await runCli('pki', 'init', '-f', spec);
  assert.equal(r.code, 0, r.stderr);
  return { spec, pki: join(dir, 'pki') };
}

test('a corrupt ca.pem in the PKI directory is refused, naming the file', async () => {
  const { spec, pki } = await freshPki('corrupt-ca');
  const pem = await readFile(join(pki, 'ca.pem'), 'utf8');
  // flip base64 characters in the middle of the DER
  const lines = pem.split('\n');
  lines[3] = (lines[3] ?? '').split('').reverse().join('');
  await writeFile(join(pki, 'ca.pem'), lines.join('\n'));
  assertBadInput(await runCli('pki', 'issue', '-f', spec), join(pki, 'ca.pem'), /corrupt PEM certificate/);
});

test('a file that is not PEM at all is refused on import', async () => {
  const junk = join(ws.dir, 'junk.pem');
  await writeFile(junk, 'hello, not a certificate\n');
  assertBadInput(await runCli('pki', 'init', '-f', ws.spec, '--import-ca', junk, '--import-ca-key', other.key), junk, /not a PEM certificate/);
  assertBadInput(await runCli('pki', 'init', '-f', ws.spec, '--import-ca', other.cert, '--import-ca-key', junk), junk, /not a PEM private key/);
});

test('a CA key that does not match the CA certificate is refused', async () => {
  const { pki } = await freshPki('mismatch');
  assertBadInput(
    await runCli('pki', 'init', '-f', ws.spec, '--import-ca', join(pki, 'ca.pem'), '--import-ca-key', other.key),
    other.key,
    /CA key does not match the CA certificate/,
  );
  const { spec: spec2, pki: pki2 } = await freshPki('mismatch-in-dir');
  await copyFile(other.key, join(pki2, 'ca-key.pem'));
  assertBadInput(await runCli('pki', 'plan', '-f', spec2), join(pki2, 'ca-key.pem'), /does not match/);
});

test('an unknown key algo in a CSR JSON is refused, naming the file and the field', async () => {
  const { spec } = await freshPki('csr-algo');
  const csr = join(ws.dir, 'dsa.json');
  await writeFile(csr, JSON.stringify({ CN: 'kubelet', hosts: ['*.example.com'], key: { algo: 'dsa', size: 1024 } }));
  assertBadInput(await runCli('pki', 'issue', '-f', spec, '--csr', csr), csr, /key: unknown key algo "dsa"/);
  const small = join(ws.dir, 'small.json');
  await writeFile(small, JSON.stringify({ CN: 'kubelet', key: { algo: 'rsa', size: 1024 } }));
  assertBadInput(await runCli('pki', 'issue', '-f', spec, '--csr', small), small, /rsa size must be/);
  const broken = join(ws.dir, 'broken.json');
  await writeFile(broken, '{"CN": ');
  assertBadInput(await runCli('pki', 'issue', '-f', spec, '--csr', broken), broken, /not valid JSON/);
});

test('an expired CA is refused on import and in the PKI directory', async () => {
  const past = new Date(Date.now() - 2 * 365 * 86_400_000);
  const old = await createCertificateAuthority({ commonName: 'old', now: past, expiryMs: 86_400_000 });
  const cert = join(ws.dir, 'expired-ca.pem');
  const key = join(ws.dir, 'expired-ca-key.pem');
  await writeFile(cert, old.certPem);
  await writeFile(key, old.keyPem);
  assertBadInput(await runCli('pki', 'init', '-f', ws.spec, '--import-ca', cert, '--import-ca-key', key), cert, /CA certificate expired on \d{4}-/);
  const { spec, pki } = await freshPki('expired-in-dir');
  await copyFile(cert, join(pki, 'ca.pem'));
  await copyFile(key, join(pki, 'ca-key.pem'));
  assertBadInput(await runCli('pki', 'issue', '-f', spec), join(pki, 'ca.pem'), /expired/);
});

test('a leaf certificate is refused as a CA', async () => {
  const { spec, pki } = await freshPki('leaf-as-ca');
  assert.equal((await runCli('pki', 'issue', '-f', spec)).code, 0);
  assertBadInput(
    await runCli('pki', 'init', '-f', ws.spec, '--import-ca', join(pki, 'admin.pem'), '--import-ca-key', join(pki, 'admin-key.pem')),
    join(pki, 'admin.pem'),
    /not a CA certificate/,
  );
});

test('a corrupt key of an issued certificate is refused rather than silently replaced', async () => {
  const { spec, pki } = await freshPki('corrupt-leaf');
  assert.equal((await runCli('pki', 'issue', '-f', spec)).code, 0);
  await writeFile(join(pki, 'admin-key.pem'), '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n');
  assertBadInput(await runCli('pki', 'plan', '-f', spec), join(pki, 'admin-key.pem'), /not a PEM private key/);
});

test('a ca-config.json with an unknown usage is refused, naming the profile', async () => {
  const cfg = join(ws.dir, 'bad-config.json');
  await writeFile(cfg, JSON.stringify({ signing: { profiles: { kubernetes: { usages: ['signing', 'server auht'], expiry: '8760h' } } } }));
  assertBadInput(await runCli('pki', 'init', '-f', ws.spec, '--ca-config', cfg), cfg, /signing\.profiles\.kubernetes\.usages: unknown usage "server auht"/);
});

test('bad flags are bad input', async () => {
  const algo = await runCli('pki', 'init', '-f', ws.spec, '--algo', 'dsa');
  assert.equal(algo.code, 2);
  assert.match(algo.stderr, /--algo\/--size: unknown key algo "dsa"/);
  const threshold = await runCli('pki', 'plan', '-f', ws.spec, '--threshold', 'soon');
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold: not a duration \(got "soon"\)/);
  const half = await runCli('pki', 'init', '-f', ws.spec, '--import-ca', other.cert);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--import-ca and --import-ca-key go together/);
});

test('a different CA is not replaced without --force', async () => {
  const { spec, pki } = await freshPki('no-force');
  const before = await readFile(join(pki, 'ca.pem'), 'utf8');
  assertBadInput(await runCli('pki', 'init', '-f', spec, '--import-ca', other.cert, '--import-ca-key', other.key), join(pki, 'ca.pem'), /a different CA is already there/);
  assert.equal(await readFile(join(pki, 'ca.pem'), 'utf8'), before);
  const forced = await runCli('pki', 'init', '-f', spec, '--import-ca', other.cert, '--import-ca-key', other.key, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(await readFile(join(pki, 'ca.pem'), 'utf8'), await readFile(other.cert, 'utf8'));
});

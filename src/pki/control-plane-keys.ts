// The control plane's two long-lived secrets that are not certificates: the service-account
// signing key pair and the key that encrypts Secrets at rest. Both are made once and then kept for
// good — a new service-account key invalidates every token, a new encryption key makes every
// encrypted Secret unreadable — so a damaged file is an error naming it, never a silent replacement.
import { createPublicKey, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { ServiceAccountKeyPair } from '../spec/credentials.ts';
import type { CertDecision } from './certificate-decision.ts';
import { readOptional, writeKey, writePublic } from './pki-files.ts';
import { describeKeySpec, encodePrivateKeyPem, generatePrivateKey, parsePrivateKeyPem, type KeySpec } from './private-key.ts';

export const serviceAccountFiles = (dir: string): { key: string; pub: string } => ({
  key: join(dir, 'control-plane', 'service-account-key.pem'),
  pub: join(dir, 'control-plane', 'service-account.pem'),
});

export const encryptionKeyFile = (dir: string): string => join(dir, 'control-plane', 'encryption-key');

function publicPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

export interface KeptSecret<T> {
  decision: CertDecision;
  /** undefined when planning and nothing is there yet */
  value: T | undefined;
}

/** The service-account key pair in `dir`: made when missing, its public half rewritten when missing or not matching. */
export async function ensureServiceAccountKey(dir: string, spec: KeySpec, write: boolean): Promise<KeptSecret<ServiceAccountKeyPair>> {
  const files = serviceAccountFiles(dir);
  const name = 'control-plane/service-account';
  const [keyPem, pubPem] = await Promise.all([readOptional(files.key), readOptional(files.pub)]);
  if (keyPem === undefined) {
    const decision: CertDecision = { name, action: 'issue', reason: `no service-account key yet: new ${describeKeySpec(spec)} key pair` };
    if (!write) return { decision, value: undefined };
    const key = await generatePrivateKey(spec);
    const privateKeyPem = encodePrivateKeyPem(key.keyObject);
    const publicKeyPem = publicPemOf(privateKeyPem);
    await writeKey(files.key, privateKeyPem);
    await writePublic(files.pub, publicKeyPem);
    return { decision, value: { privateKeyPem, publicKeyPem } };
  }
  const key = parsePrivateKeyPem(keyPem, files.key);
  const publicKeyPem = publicPemOf(keyPem);
  if (pubPem === publicKeyPem) {
    return { decision: { name, action: 'keep', reason: `${describeKeySpec(key.spec)} key pair (kept for good: a new key would invalidate every service-account token)` }, value: { privateKeyPem: keyPem, publicKeyPem } };
  }
  const decision: CertDecision = { name, action: 'reissue', reason: `${files.pub} ${pubPem === undefined ? 'missing' : 'does not match the key'}: written again from the key` };
  if (write) await writePublic(files.pub, publicKeyPem);
  return { decision, value: { privateKeyPem: keyPem, publicKeyPem } };
}

/** The aescbc key for Secrets at rest (base64 of 32 random bytes): made when missing, otherwise checked and kept. */
export async function ensureEncryptionKey(dir: string, write: boolean): Promise<KeptSecret<string>> {
  const file = encryptionKeyFile(dir);
  const name = 'control-plane/encryption-key';
  const text = await readOptional(file);
  if (text === undefined) {
    const decision: CertDecision = { name, action: 'issue', reason: 'no encryption key for Secrets at rest yet: 32 random bytes (aescbc)' };
    if (!write) return { decision, value: undefined };
    const key = randomBytes(32).toString('base64');
    await writeKey(file, `${key}\n`);
    return { decision, value: key };
  }
  const key = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(key) || Buffer.from(key, 'base64').length !== 32) {
    // never echo the file: it is a secret
    throw new InputError(`${file}: not a base64-encoded 32-byte key`, {
      hint: 'restore the file from a backup: the API servers encrypted Secrets with it, and a new key could not read them',
    });
  }
  return { decision: { name, action: 'keep', reason: 'aescbc key for Secrets at rest (kept for good: encrypted Secrets need it)' }, value: key };
}

// Private keys in every PEM form cfssl and openssl write (SEC1 `EC PRIVATE KEY`, PKCS#1
// `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`), written back the way cfssljson writes them.
import { createPrivateKey, createPublicKey, generateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InputError } from '../errors.ts';

export type KeyAlgo = 'ecdsa' | 'rsa';

/** cfssl's `key: {algo, size}`: ecdsa 256/384/521 (curve bits) or rsa ≥ 2048 (modulus bits). */
export interface KeySpec {
  algo: KeyAlgo;
  size: number;
}

export interface PrivateKey {
  keyObject: KeyObject;
  spec: KeySpec;
}

const curveBySize: Record<number, { node: string; web: string; hash: string }> = {
  256: { node: 'prime256v1', web: 'P-256', hash: 'SHA-256' },
  384: { node: 'secp384r1', web: 'P-384', hash: 'SHA-384' },
  // Go (and so cfssl) signs with SHA-512 for P-521 keys
  521: { node: 'secp521r1', web: 'P-521', hash: 'SHA-512' },
};

/** `ecdsa-256`, `rsa-2048`: how keys are named in decisions and messages. */
export function describeKeySpec(spec: KeySpec): string {
  return `${spec.algo}-${spec.size}`;
}

/** Why a key spec is not one kubewright can generate, or undefined when it is fine. */
export function keySpecProblem(spec: { algo: unknown; size: unknown }): string | undefined {
  if (spec.algo === 'ecdsa') {
    return typeof spec.size === 'number' && curveBySize[spec.size] ? undefined : `ecdsa size must be 256, 384 or 521 (got ${String(spec.size)})`;
  }
  if (spec.algo === 'rsa') {
    // cfssl refuses RSA keys below 2048 bits
    return typeof spec.size === 'number' && Number.isInteger(spec.size) && spec.size >= 2048 && spec.size <= 8192 && spec.size % 8 === 0
      ? undefined
      : `rsa size must be a multiple of 8 from 2048 to 8192 (got ${String(spec.size)})`;
  }
  return `unknown key algo ${JSON.stringify(spec.algo)} (want "ecdsa" or "rsa")`;
}

/** The algorithm and size of a public or private key; undefined for key types we do not issue (ed25519, dsa). */
export function keySpecOf(key: KeyObject): KeySpec | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    const size = Object.entries(curveBySize).find(([, c]) => c.node === details?.namedCurve)?.[0];
    return size === undefined ? undefined : { algo: 'ecdsa', size: Number(size) };
  }
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength) return { algo: 'rsa', size: details.modulusLength };
  return undefined;
}

/** Parses a PEM private key; InputError naming the file when it is not one we can use. Never echoes the key. */
export function parsePrivateKeyPem(pem: string, file: string): PrivateKey {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new InputError(`${file}: the private key is encrypted`, { hint: 'write it without a passphrase (e.g. `openssl ec -in key.pem -out key-plain.pem`) and keep it mode 0600' });
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new InputError(`${file}: not a PEM private key (${reasonOf(e)})`, {
      hint: 'expected -----BEGIN EC PRIVATE KEY-----, RSA PRIVATE KEY or PRIVATE KEY as cfssl or openssl write them',
    });
  }
  const spec = keySpecOf(keyObject);
  if (!spec) {
    throw new InputError(`${file}: unsupported private key type ${keyObject.asymmetricKeyType ?? 'unknown'}`, { hint: 'use an ECDSA (P-256/384/521) or RSA key' });
  }
  return { keyObject, spec };
}

/** The key as cfssljson writes it: SEC1 for ECDSA, PKCS#1 for RSA. */
export function encodePrivateKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1';
  return key.export({ type, format: 'pem' }).toString();
}

const generate = promisify(generateKeyPair);

export async function generatePrivateKey(spec: KeySpec): Promise<PrivateKey> {
  const problem = keySpecProblem(spec);
  if (problem) throw new InputError(`key: ${problem}`, { hint: 'use ecdsa 256 (default), 384 or 521, or rsa 2048/4096' });
  const pair =
    spec.algo === 'ecdsa'
      ? await generate('ec', { namedCurve: curveBySize[spec.size]?.node ?? 'prime256v1' })
      : await generate('rsa', { modulusLength: spec.size });
  return { keyObject: pair.privateKey, spec };
}

/** DER SubjectPublicKeyInfo of a key: what certificates carry, and how keys are compared. */
export function publicKeyDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

/** WebCrypto algorithm for signing with this key: SHA by curve for ECDSA, SHA-256 for RSA (as cfssl). */
export function signingAlgorithm(spec: KeySpec): { name: string; hash: string; namedCurve?: string } {
  if (spec.algo === 'ecdsa') {
    const c = curveBySize[spec.size] ?? { web: 'P-256', hash: 'SHA-256' };
    return { name: 'ECDSA', hash: c.hash, namedCurve: c.web };
  }
  return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

/** The key pair as WebCrypto keys, for @peculiar/x509. */
export async function toCryptoKeyPair(key: PrivateKey): Promise<webcrypto.CryptoKeyPair> {
  const alg = signingAlgorithm(key.spec);
  const importAlg = alg.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: alg.namedCurve ?? 'P-256' } : { name: alg.name, hash: alg.hash };
  const pkcs8 = key.keyObject.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlg, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', publicKeyDer(key.keyObject), importAlg, true, ['verify']);
  return { privateKey, publicKey };
}

export function reasonOf(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split('\n')[0] ?? '').replace(/^error:[0-9A-F]+:/, '').trim() || 'unreadable';
}

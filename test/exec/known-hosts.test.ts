import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { checkHostKey, hostKeyAlgorithms, keyTypeOf, knownHostsName, pinnedKeyTypes } from '../../src/exec/known-hosts.ts';

function blob(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  const n = Buffer.alloc(4);
  n.writeUInt32BE(t.length);
  return Buffer.concat([n, t, body]);
}

const key = blob('ssh-ed25519', randomBytes(36));
const other = blob('ssh-ed25519', randomBytes(36));
const rsa = blob('ssh-rsa', randomBytes(60));

test('known_hosts names use [address]:port for ports other than 22', () => {
  assert.equal(knownHostsName('10.0.0.1', 22), '10.0.0.1');
  assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  assert.equal(keyTypeOf(key), 'ssh-ed25519');
});

test('a listed key is known; a different key of the same type or of another type is a change', () => {
  const text = `# comment\nw1,10.0.0.1 ssh-ed25519 ${key.toString('base64')}\n`;
  assert.deepEqual(checkHostKey(text, '10.0.0.1', key), { kind: 'known' });
  assert.deepEqual(checkHostKey(text, '10.0.0.1', other), { kind: 'changed', line: 2, pinnedTypes: ['ssh-ed25519'] });
  // a man in the middle offering another type must not pass as a new, unknown host
  assert.deepEqual(checkHostKey(text, '10.0.0.1', rsa), { kind: 'changed', line: 2, pinnedTypes: ['ssh-ed25519'] });
  assert.deepEqual(checkHostKey(text, '10.0.0.2', key), { kind: 'unknown' });
});

test('the host key algorithms offered are those of the pinned types, RSA with its SHA-2 signatures', () => {
  const text = `10.0.0.1 ssh-rsa ${rsa.toString('base64')}\n10.0.0.1 ssh-ed25519 ${key.toString('base64')}\n@revoked 10.0.0.1 ecdsa-sha2-nistp256 AAAA\n`;
  assert.deepEqual(pinnedKeyTypes(text, '10.0.0.1'), ['ssh-rsa', 'ssh-ed25519']);
  assert.deepEqual(hostKeyAlgorithms(pinnedKeyTypes(text, '10.0.0.1')), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  assert.deepEqual(pinnedKeyTypes(text, '10.0.0.2'), []);
});

test('hashed host names match and revoked keys are refused', () => {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update('[127.0.0.1]:2200').digest('base64');
  const text = `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${key.toString('base64')}\n@revoked * ssh-ed25519 ${other.toString('base64')}\n`;
  assert.deepEqual(checkHostKey(text, '[127.0.0.1]:2200', key), { kind: 'known' });
  assert.deepEqual(checkHostKey(text, '[127.0.0.1]:2201', key), { kind: 'unknown' });
  const revoked = `@revoked [127.0.0.1]:2200 ssh-ed25519 ${other.toString('base64')}\n`;
  assert.deepEqual(checkHostKey(revoked, '[127.0.0.1]:2200', other), { kind: 'revoked', line: 1 });
});

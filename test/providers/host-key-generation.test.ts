// Droplet host keys are generated locally (src/providers/digitalocean/host-keys.ts). ssh2 1.17's
// generator emits a malformed key for about 1 pair in 200 (a 31-byte ed25519 public key); OpenSSH
// is the judge of what a droplet's sshd can load.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { generateHostKey } from '../../src/providers/digitalocean/host-keys.ts';

test('2,000 generated host keys all parse back to their own 32-byte public key', () => {
  // with the unchecked generator, P(no malformed key in 2,000) is about 0.005 %
  for (let i = 0; i < 2000; i++) {
    const k = generateHostKey(`w${i}`);
    const parsed = ssh2.utils.parseKey(k.privateKey);
    assert.ok(!(parsed instanceof Error), `w${i}: the private key parses`);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    assert.equal(`ssh-ed25519 ${key?.getPublicSSH().toString('base64')}`, k.publicKey);
    // ssh-ed25519 blob: 4+11 (type) + 4+32 (key) = 51 bytes
    assert.equal(Buffer.from(k.publicKey.split(' ')[1] ?? '', 'base64').length, 51, `w${i}: a 32-byte ed25519 key`);
  }
});

test('OpenSSH loads generated host keys and derives the same public key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-hostkey-'));
  try {
    for (let i = 0; i < 20; i++) {
      const k = generateHostKey(`w${i}`);
      const file = join(dir, `w${i}`);
      writeFileSync(file, k.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(/\s+/).slice(0, 2).join(' ');
      assert.equal(derived, k.publicKey);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Where the DigitalOcean token and API URL come from; errors name the source, never the value.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { resolveApiUrl, resolveToken } from '../../src/providers/digitalocean/token.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubewright-token-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('--token-file wins over DIGITALOCEAN_ACCESS_TOKEN and is trimmed', async () => {
  const f = join(dir, 'tok');
  await writeFile(f, '  dop_v1_fromfile\n');
  assert.equal(await resolveToken({ tokenFile: f, env: { DIGITALOCEAN_ACCESS_TOKEN: 'dop_v1_fromenv' } }), 'dop_v1_fromfile');
  assert.equal(await resolveToken({ env: { DIGITALOCEAN_ACCESS_TOKEN: ' dop_v1_fromenv ' } }), 'dop_v1_fromenv');
});

test('a token file with more than one token is refused without echoing it', async () => {
  const f = join(dir, 'two');
  await writeFile(f, 'dop_v1_secretone\ndop_v1_secrettwo\n');
  await assert.rejects(resolveToken({ tokenFile: f, env: {} }), (e: unknown) => e instanceof InputError && /exactly one token/.test(e.message) && !e.describe().includes('secret'));
  await assert.rejects(resolveToken({ tokenFile: join(dir, 'missing'), env: {} }), /cannot read the DigitalOcean token \(ENOENT\)/);
  await assert.rejects(resolveToken({ env: {} }), /no API token/);
});

test('the API URL comes from the option, then DIGITALOCEAN_API_URL, then the public API', () => {
  assert.equal(resolveApiUrl('http://127.0.0.1:9/', { DIGITALOCEAN_API_URL: 'http://other' }), 'http://127.0.0.1:9');
  // the token would cross the network in clear text: plain http is refused off loopback
  assert.throws(() => resolveApiUrl(undefined, { DIGITALOCEAN_API_URL: 'http://api.example.com' }), (e: unknown) => e instanceof InputError && /unencrypted/.test(e.message) && e.exitCode === 2);
  assert.equal(resolveApiUrl('http://localhost:8080', {}), 'http://localhost:8080');
  assert.equal(resolveApiUrl(undefined, { DIGITALOCEAN_API_URL: 'http://127.0.0.1:8' }), 'http://127.0.0.1:8');
  assert.equal(resolveApiUrl(undefined, {}), 'https://api.digitalocean.com');
  assert.throws(() => resolveApiUrl('ftp://x', {}), InputError);
  assert.throws(() => resolveApiUrl('not a url', {}), /not a URL/);
});

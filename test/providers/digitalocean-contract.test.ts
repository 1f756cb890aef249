// The vendored DigitalOcean OpenAPI contract (test/contracts/digitalocean/) is the file its README
// describes: the recorded sha256, the paths and components it lists, and a fixed point of the trim
// script that made it, so a hand edit to the contract or the script fails here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { doApiSpecPath } from '../support/prism.ts';

const contractDir = fileURLToPath(new URL('../contracts/digitalocean/', import.meta.url));
const recordedSha256 = '0013657520e55f842c047860e92a46ac7afadb8cd94998be135fc0576e2b3661';

test('Prism reads the vendored contract inside the repository', () => {
  assert.equal(doApiSpecPath, join(contractDir, 'do-api-v2.yaml'));
});

test('the vendored contract has the sha256 its README records', async () => {
  const text = await readFile(doApiSpecPath);
  assert.equal(createHash('sha256').update(text).digest('hex'), recordedSha256);
  assert.ok((await readFile(join(contractDir, 'README.md'), 'utf8')).includes(recordedSha256), 'README records the same sum');
});

test('the contract names its Apache-2.0 licence and the licence text sits beside it', async () => {
  const doc = parse(await readFile(doApiSpecPath, 'utf8'), { maxAliasCount: -1 }) as {
    openapi: string;
    info: { license: { name: string } };
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  assert.equal(doc.openapi, '3.0.0');
  assert.equal(doc.info.license.name, 'Apache 2.0');
  assert.match(await readFile(join(contractDir, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  // the counts the README gives
  assert.equal(Object.keys(doc.paths).length, 60);
  assert.equal(Object.keys(doc.components.schemas).length, 108);
  for (const p of ['/v2/droplets', '/v2/droplets/{droplet_id}', '/v2/account/keys', '/v2/tags/{tag_id}/resources', '/v2/firewalls']) {
    assert.ok(p in doc.paths, `${p} is kept`);
  }
});

test('trim.mjs leaves the vendored contract byte for byte unchanged (it is the script\'s output)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-do-contract-'));
  try {
    const out = join(dir, 'do-api-v2.yaml');
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [join(contractDir, 'trim.mjs'), doApiSpecPath, out], { timeout: 120_000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`trim.mjs failed: ${stderr}`)) : resolve(),
      );
    });
    assert.ok((await readFile(out)).equals(await readFile(doApiSpecPath)), 'trim.mjs output differs from the vendored contract');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

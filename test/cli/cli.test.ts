import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-cli-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('init writes the starter spec and render turns it into a tree', () =>
  withTmp(async (dir) => {
    const spec = join(dir, 'cluster.yaml');
    assert.equal((await runCli('init', '-f', spec)).code, 0);
    assert.equal((await runCli('init', '-f', spec)).code, 0, 'init is idempotent on an unchanged starter');
    const r = await runCli('render', '-f', spec, '--out', join(dir, 'out'));
    assert.equal(r.code, 0, r.stderr);
    const entries = await readdir(join(dir, 'out'));
    assert.ok(entries.includes('cluster'));
    assert.ok(entries.includes('.kubewright-render'));
  }));

test('init refuses to overwrite an edited spec without --force', () =>
  withTmp(async (dir) => {
    const spec = join(dir, 'cluster.yaml');
    await writeFile(spec, 'mine\n');
    const r = await runCli('init', '-f', spec);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already exists.*--force/);
    assert.equal(await readFile(spec, 'utf8'), 'mine\n');
  }));

test('render refuses to overwrite a directory it did not write', () =>
  withTmp(async (dir) => {
    const out = join(dir, 'precious');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'keep me');
    const r = await runCli('render', '-f', new URL('../../examples/seed.yaml', import.meta.url).pathname, '--out', out);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not written by kubewright/);
    assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'keep me');
  }));

test('a bad spec exits 2 with the field path and no stack trace', () =>
  withTmp(async (dir) => {
    const spec = join(dir, 'bad.yaml');
    await writeFile(spec, (await readFile(new URL('../../examples/seed.yaml', import.meta.url), 'utf8')).replace('clusterDNS: 10.32.0.10', 'clusterDNS: 10.32.1.10'));
    const r = await runCli('render', '-f', spec, '--out', join(dir, 'out'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /kubernetes\.clusterDNS: must be inside serviceCIDR 10\.32\.0\.0\/24 \(got "10\.32\.1\.10"\)/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  }));

test('a missing required flag exits 2', async () => {
  const r = await runCli('render', '--out', 'x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--file/);
});

// --help of every command, through the real bin entry: test/cli/help.test.ts

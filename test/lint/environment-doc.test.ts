// docs/environment.md lists every environment variable src/ reads: `env['NAME']` in the CLI and
// library, `export const …EnvVar = 'NAME'`, and `${NAME:-…}` in the scripts it renders onto nodes.
// A variable read but not listed (or listed but no longer read) fails, shown on a planted read.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

const repo = join(import.meta.dirname, '../..');

/** The variable names read in these source texts. */
function variablesRead(texts: string[]): Set<string> {
  const names = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(/env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g)) names.add(m[1]!);
    for (const m of t.matchAll(/EnvVar = '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
    for (const m of t.matchAll(/\\\$\{([A-Z][A-Z0-9_]*):-/g)) names.add(m[1]!);
  }
  return names;
}

/** The names in the first column of the doc's tables. */
function variablesListed(doc: string): Set<string> {
  return new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!));
}

async function sources(): Promise<string[]> {
  const dir = join(repo, 'src');
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
  return Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
}

test('docs/environment.md lists exactly the environment variables src/ reads', async () => {
  const read = variablesRead(await sources());
  const listed = variablesListed(await readFile(join(repo, 'docs/environment.md'), 'utf8'));
  assert.ok(read.has('DIGITALOCEAN_ACCESS_TOKEN') && read.has('ETCD_LOOKUP_ATTEMPTS'), 'the scan finds the CLI\'s and the node scripts\' variables');
  assert.deepEqual([...read].filter((n) => !listed.has(n)).sort(), [], 'read by src/ but not in docs/environment.md');
  assert.deepEqual([...listed].filter((n) => !read.has(n)).sort(), [], 'in docs/environment.md but read nowhere in src/');
});

test('a planted read of an unlisted variable is caught', async () => {
  const planted = [...(await sources()), "const x = process.env['KUBEWRIGHT_SECRET_KNOB'];", 'echo "${NODE_KNOB:-1}"'.replace('${', '\\${')];
  const listed = variablesListed(await readFile(join(repo, 'docs/environment.md'), 'utf8'));
  assert.deepEqual([...variablesRead(planted)].filter((n) => !listed.has(n)).sort(), ['KUBEWRIGHT_SECRET_KNOB', 'NODE_KNOB']);
});

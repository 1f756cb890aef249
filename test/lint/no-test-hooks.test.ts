// The product reads no test-only variable (issue 10): src/ holds no KUBEWRIGHT_TEST… name, and
// the scanner finds one planted in a copy. The compiled dist/ is checked in test/cli/build.test.ts.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testHooksIn } from '../support/test-hooks.ts';

const src = join(import.meta.dirname, '../../src');

test('src/ reads no KUBEWRIGHT_TEST… variable', async () => {
  assert.deepEqual(await testHooksIn(src), []);
});

test('a test hook planted in a copy of src/ is found with its file and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-hooks-'));
  try {
    await cp(join(src, 'cli'), join(dir, 'cli'), { recursive: true });
    await writeFile(join(dir, 'cli', 'planted.ts'), "export const x = 1;\nexport const roots = process.env['KUBEWRIGHT_TEST_HOST_ROOTS'];\n");
    assert.deepEqual(await testHooksIn(dir), ['cli/planted.ts:2: KUBEWRIGHT_TEST_HOST_ROOTS']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The one table formatter: columns padded to their widest cell, the last left as is, no trailing blanks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from '../../src/cli/table.ts';

test('columns line up on the widest cell and the last column is not padded', () => {
  assert.deepEqual(formatTable([['HOST', 'STATUS', 'ERROR'], ['w-long-1', 'failed', 'ssh: refused'], ['w2', 'ok', '']]), [
    'HOST      STATUS  ERROR',
    'w-long-1  failed  ssh: refused',
    'w2        ok',
  ]);
});

test('gap and indent are the caller\'s (kubectl spacing, an indented list)', () => {
  assert.deepEqual(formatTable([['NAME', 'STATUS'], ['a', 'Ready']], { gap: 3, indent: '  ' }), ['  NAME   STATUS', '  a      Ready']);
});

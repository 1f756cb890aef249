import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommandError } from '../../src/exec/command-result.ts';
import { LocalExecutor } from '../../src/exec/local-executor.ts';

test('the local executor writes files at the paths it is given and reports failed commands as results', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kw-local-'));
  try {
    const x = new LocalExecutor({ name: 'lab1' });
    await x.put({ path: join(root, 'etc/kw/x.conf'), mode: 0o600, contents: 'x\n' });
    assert.equal(await readFile(join(root, 'etc/kw/x.conf'), 'utf8'), 'x\n');
    assert.equal((await stat(join(root, 'etc/kw/x.conf'))).mode & 0o777, 0o600);
    await writeFile(join(root, 'src.bin'), 'bin');
    await x.upload(join(root, 'src.bin'), join(root, 'usr/bin/tool'), 0o755);
    assert.equal((await stat(join(root, 'usr/bin/tool'))).mode & 0o777, 0o755);
    assert.deepEqual(await readdir(join(root, 'etc/kw')), ['x.conf']);
    assert.equal((await x.exec(`cat ${join(root, 'etc/kw/x.conf')}`)).stdout, 'x\n');
    const e = await x.exec('echo no >&2; exit 4').catch((err: unknown) => err);
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 4);
    assert.equal(e.stderr, 'no\n');
    assert.equal(e.host, 'lab1');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

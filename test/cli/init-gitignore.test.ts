// `init` writes a .gitignore for pki/ and .kubewright/ (issue 12 item 7): private keys and local
// state never reach a repository. git itself judges what is ignored.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

function ignoredByGit(dir: string, path: string): boolean {
  const r = spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`git check-ignore: ${r.stderr}`);
  return r.status === 0;
}

test('init writes a .gitignore that keeps pki/ and .kubewright/ out of git, and keeps the lines already there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-init-'));
  try {
    assert.equal(spawnSync('git', ['init', '-q'], { cwd: dir }).status, 0);
    await writeFile(join(dir, '.gitignore'), 'rendered/');
    const r = await runCli('init', '-f', join(dir, 'cluster.yaml'));
    assert.equal(r.code, 0, r.stderr);
    for (const p of ['pki/ca-key.pem', 'pki/nodes/w1/kubelet-key.pem', '.kubewright/demo/hostkeys/w1', '.kubewright/demo/lock', 'rendered/x']) {
      assert.ok(ignoredByGit(dir, p), `${p} is ignored`);
    }
    for (const p of ['cluster.yaml', 'known_hosts', 'kubewright.lock']) assert.ok(!ignoredByGit(dir, p), `${p} is not ignored`);
    const text = await readFile(join(dir, '.gitignore'), 'utf8');
    assert.match(text, /^rendered\/\n/, 'the existing line is kept');
    // a second init changes nothing
    assert.equal((await runCli('init', '-f', join(dir, 'cluster.yaml'))).code, 0);
    assert.equal(await readFile(join(dir, '.gitignore'), 'utf8'), text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError, runLocal } from '../../src/exec/command-result.ts';

test('runLocal runs a program without a shell and gives stdout, stderr and the exit code', async () => {
  const r = await runLocal(['printf', '%s|', 'a b', '$HOME']);
  assert.deepEqual(r, { command: 'printf %s| a b $HOME', stdout: 'a b|$HOME|', stderr: '', code: 0 });
});

test('a non-zero exit rejects with a CommandError that is the result, naming the host; allowFailure resolves it', async () => {
  const argv = ['sh', '-c', 'echo out; echo why >&2; exit 3'] as const;
  await assert.rejects(runLocal([...argv], { host: 'lab-1' }), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.host, 'lab-1');
    assert.deepEqual([e.code, e.stdout, e.stderr], [3, 'out\n', 'why\n']);
    assert.match(e.message, /exit code 3: .*\(why\)/);
    return true;
  });
  assert.equal((await runLocal([...argv], { allowFailure: true })).code, 3);
});

test('a program that is not installed is exit 127; a timeout kills it with code -1 and says so', async () => {
  const missing = await runLocal(['kubewright-no-such-program'], { allowFailure: true });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /ENOENT/);
  const started = Date.now();
  const slow = await runLocal(['sleep', '10'], { allowFailure: true, timeoutMs: 200 });
  assert.equal(slow.code, -1);
  assert.equal(slow.stderr, 'timed out after 200 ms');
  assert.ok(Date.now() - started < 5000);
});

test('stdin reaches the program; one that ignores it does not break the run', async () => {
  assert.equal((await runLocal(['cat'], { stdin: 'hello' })).stdout, 'hello');
  assert.equal((await runLocal(['true'], { stdin: 'x'.repeat(1 << 20) })).code, 0);
});

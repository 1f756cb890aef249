// .ci/run's own rules: it refuses UPDATE_GOLDEN (which would turn every golden test green) and a
// bad KUBEWRIGHT_CI_REPEAT, and with KUBEWRIGHT_CI_REPEAT=N it runs the suite N times, reports each
// run and the longest test files, ends on the summed counts and fails when any run failed.
// The script runs from a copy in a temporary folder with TEST DOUBLES for apt-get and npm first on
// PATH, so nothing is installed and the real suite is not started from inside itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ciRun = fileURLToPath(new URL('../../.ci/run', import.meta.url));
let dir: string;

// TEST DOUBLE for npm: `npm test` prints the runner's closing counts and writes one timing line;
// it fails on the run number listed in $STUB_FAIL_RUN. Every other npm command succeeds silently.
const npmDouble = `#!/bin/sh
echo "$*" >> "$STUB_LOG"
[ "$1" = test ] || exit 0
n=$(grep -c '^test$' "$STUB_LOG")
printf '%s\\t0\\t%s\\n' "$((n * 1000))" "$PWD/test/slow-$n.test.ts" >> "$KUBEWRIGHT_TEST_TIMINGS"
if [ "$n" = "\${STUB_FAIL_RUN:-}" ]; then printf '# pass 1\\n# fail 1\\n# skipped 0\\n'; exit 1; fi
printf '# pass 2\\n# fail 0\\n# skipped 1\\n'
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-ci-run-'));
  await mkdir(join(dir, 'repo', '.ci'), { recursive: true });
  await copyFile(ciRun, join(dir, 'repo', '.ci', 'run'));
  await mkdir(join(dir, 'bin'));
  for (const [name, body] of [['npm', npmDouble], ['apt-get', '#!/bin/sh\necho "apt-get $*" >> "$STUB_LOG"\n']] as const) {
    await writeFile(join(dir, 'bin', name), body);
    await chmod(join(dir, 'bin', name), 0o755);
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  log: string;
}

async function runCi(env: Record<string, string>): Promise<Run> {
  const log = join(dir, `calls-${Math.random().toString(36).slice(2)}.log`);
  await writeFile(log, '');
  const base = { PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: dir, STUB_LOG: log };
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bash', [join(dir, 'repo', '.ci', 'run')], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
  return { ...r, log: await readFile(log, 'utf8') };
}

test('.ci/run refuses UPDATE_GOLDEN with exit 2 before installing or testing anything', async () => {
  for (const value of ['1', '0', '']) {
    const r = await runCi({ UPDATE_GOLDEN: value });
    assert.equal(r.code, 2, `UPDATE_GOLDEN='${value}': ${r.stderr}`);
    assert.match(r.stderr, /UPDATE_GOLDEN is set .*unset it/);
    assert.equal(r.log, '', 'neither apt-get nor npm ran');
  }
});

test('.ci/run refuses a KUBEWRIGHT_CI_REPEAT that is not a whole number >= 1', async () => {
  for (const value of ['0', 'three', '-1', '2x']) {
    const r = await runCi({ KUBEWRIGHT_CI_REPEAT: value });
    assert.equal(r.code, 2, value);
    assert.match(r.stderr, /KUBEWRIGHT_CI_REPEAT must be a whole number >= 1/);
    assert.equal(r.log, '');
  }
});

test('KUBEWRIGHT_CI_REPEAT=3 runs the suite three times, reports each run and the longest files, and sums the counts', async () => {
  const r = await runCi({ KUBEWRIGHT_CI_REPEAT: '3' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.log.split('\n').filter((l) => l === 'test').length, 3);
  for (const n of [1, 2, 3]) assert.match(r.stdout, new RegExp(`^run ${n}: pass in \\d+ s$`, 'm'));
  // each run lists its files; the summary over runs names the slowest first
  assert.match(r.stdout, /--- slowest run of each test file over 3 runs[^\n]*\n3000\ttest\/slow-3\.test\.ts\n2000\ttest\/slow-2\.test\.ts/);
  assert.equal(r.stdout.trimEnd().split('\n').at(-1), 'tests: 6 passed, 0 failed, 3 skipped');
});

test('one failed run of several fails .ci/run, and the others still run', async () => {
  const r = await runCi({ KUBEWRIGHT_CI_REPEAT: '3', STUB_FAIL_RUN: '2' });
  assert.equal(r.code, 1);
  assert.equal(r.log.split('\n').filter((l) => l === 'test').length, 3);
  assert.match(r.stdout, /^run 2: FAIL in \d+ s$/m);
  assert.match(r.stdout, /^run 3: pass in \d+ s$/m);
  assert.match(r.stderr, /1 of 3 test runs failed/);
  assert.equal(r.stdout.trimEnd().split('\n').at(-1), 'tests: 5 passed, 1 failed, 2 skipped');
});

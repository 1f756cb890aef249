// Per-test-file wall time for `.ci/run` (loaded through NODE_OPTIONS=--import=<this file>).
// Node 20's runner starts one process per test file; each such process appends
// "<ms since its start>\t<exit code>\t<file>" to $KUBEWRIGHT_TEST_TIMINGS when it exits.
// Any other node process (the CLI, Prism, helpers the tests start) records nothing.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const out = process.env['KUBEWRIGHT_TEST_TIMINGS'];
const file = process.argv[1] ?? '';
if (out && file.endsWith('.test.ts')) {
  process.on('exit', (code) => {
    appendFileSync(out, `${Math.round(performance.now())}\t${code}\t${file}\n`);
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubewrightError } from '../../src/errors.ts';
import { describeError, planText } from '../../src/run/plan-report.ts';
import type { HostOutcome } from '../../src/run/run-hosts.ts';

const failed = (host: string, error: unknown): HostOutcome => ({ host, status: 'failed', plan: undefined, applied: 0, error, durationMs: 5, oldContents: new Map() });

test('a failed host is named once on its plan line, even when its error carries the host', () => {
  const lines = planText([failed('w0', new KubewrightError('preflight failed: swap: 1 swap device(s) active', { host: 'w0', hint: 'run swapoff -a' }))]);
  assert.deepEqual(lines, ['w0: FAILED: preflight failed: swap: 1 swap device(s) active — run swapoff -a']);
});

test('an error about another host keeps that host in the text', () => {
  const e = new KubewrightError('etcd member unreachable', { host: 'e1' });
  assert.equal(describeError(e, 'w0'), 'e1: etcd member unreachable');
  assert.equal(describeError(e), 'e1: etcd member unreachable');
  assert.equal(describeError(e, 'e1'), 'etcd member unreachable');
  assert.equal(describeError(new Error('plain')), 'plain');
});

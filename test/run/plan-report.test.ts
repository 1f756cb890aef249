import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubewrightError } from '../../src/errors.ts';
import { describeError, groupedPlanText, planText, preflightWarningLines, rolloutText } from '../../src/run/plan-report.ts';
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

const planned = (host: string, summaries: string[], warning?: string): HostOutcome => ({
  host, status: 'planned', applied: 0, error: undefined, durationMs: 5, oldContents: new Map(),
  plan: {
    actions: summaries.map((summary) => ({ phase: 'units', kind: 'start', summary, reasons: [] })),
    facts: { os: 'debian 12', arch: 'x86_64' },
    findings: warning ? [{ check: 'time-sync', severity: 'warning', message: warning }] : [],
  } as unknown as HostOutcome['plan'],
});

test('the plan of many hosts: the same actions once per group, the largest first, after its first host; failures each on their line', () => {
  const outcomes = [
    planned('w1', ['start kubelet.service (its config changed)']),
    ...['w2', 'w3', 'w4', 'w5'].map((h) => planned(h, [])),
    failed('w6', new Error('ssh connect to root@192.0.2.6:22 timed out')),
    planned('w7', ['start kubelet.service (its config changed)']),
    planned('w8', ['start kube-proxy.service (not running)']),
  ];
  assert.deepEqual(groupedPlanText(outcomes), [
    'w2 (+3): no changes, the same on 4 hosts: w2, w3, w4, w5',
    'w1 (+1): 1 change(s) (debian 12, x86_64), the same on 2 hosts: w1, w7 (diffs shown are w1\'s; plan -v shows each host)',
    'w1 (+1):   ▶ start kubelet.service (its config changed)',
    'w8: 1 change(s) (debian 12, x86_64)',
    'w8:   ▶ start kube-proxy.service (not running)',
    'w6: FAILED: ssh connect to root@192.0.2.6:22 timed out',
  ]);
});

test('preflight warnings over many hosts: one line per distinct warning, naming ten hosts and how many more', () => {
  const outcomes = Array.from({ length: 12 }, (_, i) => planned(`w${i + 1}`, [], i === 11 ? 'clock drifts' : 'clock not NTP-synchronised'));
  assert.deepEqual(preflightWarningLines(outcomes, true), [
    'w1 (+10): warning: time-sync: clock not NTP-synchronised (11 hosts: w1, w2, w3, w4, w5, w6, w7, w8, w9, w10 and 1 more)',
    'w12: warning: time-sync: clock drifts',
  ]);
  assert.equal(preflightWarningLines(outcomes).length, 12, 'each host its own line without grouping');
});

test('the rollout of many batches lists the first ones and how many more', () => {
  const outcomes = Array.from({ length: 14 }, (_, i) => ({ ...planned(`w${i + 1}`, ['restart kubelet.service']), rollout: { batch: i + 1, batches: 14 } }));
  const lines = rolloutText(outcomes, 1, true, 10);
  assert.equal(lines.length, 1 + 10 + 1);
  assert.equal(lines.at(-2), 'rollout:   10. w10');
  assert.match(lines.at(-1)!, /^rollout: {3}… and 4 more batch\(es\) in host order/);
});

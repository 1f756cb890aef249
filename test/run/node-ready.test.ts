// When a Node's heartbeat counts as posted by the kubelet that started last (pure).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postedSince } from '../../src/run/node-ready.ts';

test('a heartbeat counts from its kubelet\'s start: exactly when it has sub-second precision, from the start\'s second when whole seconds', () => {
  const start = Date.parse('2026-11-30T13:40:00.800Z');
  assert.equal(postedSince(Date.parse('2026-11-30T13:40:00.799Z'), start), false, 'the old kubelet\'s last beat');
  assert.equal(postedSince(Date.parse('2026-11-30T13:40:00.801Z'), start), true);
  // Kubernetes' metav1.Time has whole seconds: a status posted at 13:40:00.9 reads 13:40:00
  assert.equal(postedSince(Date.parse('2026-11-30T13:40:00Z'), start), true);
  assert.equal(postedSince(Date.parse('2026-11-30T13:39:59Z'), start), false);
});

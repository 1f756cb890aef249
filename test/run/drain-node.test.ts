// drainNode against the Kubernetes API test double (pods, PodDisruptionBudgets, the eviction
// subresource and cordon are the double's; the client, its TLS and the drain logic are real).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { KubewrightError } from '../../src/errors.ts';
import { cordonNode, drainNode, uncordonNode, type DrainEvent } from '../../src/run/drain-node.ts';
import { putBudget, putNode, putPod, startAdminApi, type AdminApi } from '../support/admin-api.ts';

describe('drainNode', () => {
  let a: AdminApi;
  before(async () => {
    a = await startAdminApi();
  });
  after(async () => {
    await a.close();
  });
  beforeEach(() => {
    a.api.objects.clear();
    a.api.calls.length = 0;
    putNode(a.api, 'w1');
    putNode(a.api, 'w2');
  });

  const evictions = (): string[] => a.api.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/eviction')).map((c) => c.path.split('/').slice(-2, -1)[0] ?? '');

  test('cordons first, evicts managed pods, skips DaemonSet and mirror pods, and waits until the evicted pods are gone', async () => {
    putPod(a.api, { name: 'web-1', node: 'w1', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    putPod(a.api, { name: 'flannel-x', namespace: 'kube-system', node: 'w1', owner: 'DaemonSet/kube-flannel' });
    putPod(a.api, { name: 'static-w1', namespace: 'kube-system', node: 'w1', annotations: { 'kubernetes.io/config.mirror': 'abc' }, owner: 'Node/w1' });
    putPod(a.api, { name: 'web-2', node: 'w2', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    const events: DrainEvent[] = [];
    const r = await drainNode(a.kubeConfig, 'w1', { timeoutMs: 5000, onEvent: (e) => events.push(e) });
    assert.deepEqual(r.evicted, ['default/web-1']);
    assert.deepEqual(r.skipped.map((s) => s.pod).sort(), ['kube-system/flannel-x', 'kube-system/static-w1']);
    assert.equal(r.cordoned, true);
    assert.equal((a.api.node('w1')?.['spec'] as { unschedulable?: boolean }).unschedulable, true);
    assert.deepEqual(a.api.pods('w1').sort(), ['kube-system/flannel-x', 'kube-system/static-w1']);
    assert.deepEqual(a.api.pods('w2'), ['default/web-2'], 'the other node is untouched');
    const firstPatch = a.api.calls.findIndex((c) => c.method === 'PATCH' && c.object === 'nodes/w1');
    const firstEviction = a.api.calls.findIndex((c) => c.path.endsWith('/eviction'));
    assert.ok(firstPatch >= 0 && firstPatch < firstEviction, 'the node is cordoned before any eviction');
    assert.deepEqual(events.map((e) => e.kind), ['cordoned', 'skipped', 'skipped', 'evicting', 'evicted', 'gone']);
  });

  test('an unmanaged pod is refused without force, and nothing is evicted; with force it is evicted', async () => {
    putPod(a.api, { name: 'web-1', node: 'w1', owner: 'ReplicaSet/web-5d4' });
    putPod(a.api, { name: 'scratch', node: 'w1' });
    await assert.rejects(drainNode(a.kubeConfig, 'w1', { timeoutMs: 5000, forceFlag: '--force-drain' }), (e: unknown) => {
      assert.ok(e instanceof KubewrightError);
      assert.match(e.message, /drain w1: 1 pod\(s\) have no controller .*: default\/scratch/);
      assert.match(e.hint ?? '', /re-run with --force-drain to delete them/, 'names the flag of the command that drained');
      return true;
    });
    assert.deepEqual(evictions(), []);
    assert.equal(a.api.pods('w1').length, 2);
    const r = await drainNode(a.kubeConfig, 'w1', { timeoutMs: 5000, force: true });
    assert.deepEqual(r.evicted.sort(), ['default/scratch', 'default/web-1']);
    assert.equal(r.cordoned, false, 'the failed run had cordoned it already');
    assert.deepEqual(a.api.pods('w1'), []);
  });

  test('a budget that forbids the eviction is retried until the timeout, then the error names the pod and the budget', async () => {
    putBudget(a.api, { name: 'web', app: 'web', minAvailable: 2 });
    putPod(a.api, { name: 'web-1', node: 'w1', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    putPod(a.api, { name: 'web-2', node: 'w2', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    const events: DrainEvent[] = [];
    const started = Date.now();
    await assert.rejects(drainNode(a.kubeConfig, 'w1', { timeoutMs: 3000, retryIntervalMs: 100, onEvent: (e) => events.push(e) }), (e: unknown) => {
      assert.ok(e instanceof KubewrightError);
      assert.equal(e.host, 'w1');
      assert.match(e.message, /drain w1: 1 pod\(s\) still on the node after 3s: default\/web-1 \(The disruption budget web needs 2 healthy pods and has 2 currently\)/);
      assert.match(e.hint ?? '', /PodDisruptionBudget default\/web allows no disruption now.*--drain-timeout.*kubectl uncordon w1/);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 3000 && took < 10000, `gave up at the deadline (${took} ms)`);
    assert.ok(evictions().length >= 3, `retried (${evictions().length} attempts)`);
    assert.deepEqual(events.filter((e) => e.kind === 'blocked').length, 1, 'one blocked event while the reason stays the same');
    assert.deepEqual(a.api.pods('w1'), ['default/web-1']);
  });

  test('a blocked eviction goes through once the budget allows it (a replacement became healthy elsewhere)', async () => {
    putBudget(a.api, { name: 'web', app: 'web', minAvailable: 2 });
    putPod(a.api, { name: 'web-1', node: 'w1', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    putPod(a.api, { name: 'web-2', node: 'w2', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    let scaled = false;
    const r = await drainNode(a.kubeConfig, 'w1', {
      timeoutMs: 10_000, retryIntervalMs: 100,
      onEvent: (e) => {
        if (e.kind === 'blocked' && !scaled) {
          scaled = true;
          putPod(a.api, { name: 'web-3', node: 'w2', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
        }
      },
    });
    assert.ok(scaled, 'the eviction was refused at first');
    assert.deepEqual(r.evicted, ['default/web-1']);
    assert.deepEqual(a.api.pods('w2').sort(), ['default/web-2', 'default/web-3']);
  });

  test('maxUnavailable: one of the node\'s two pods may go, the other waits', async () => {
    putBudget(a.api, { name: 'db', app: 'db', maxUnavailable: 1 });
    putPod(a.api, { name: 'db-0', node: 'w1', labels: { app: 'db' }, owner: 'StatefulSet/db' });
    putPod(a.api, { name: 'db-1', node: 'w1', labels: { app: 'db' }, owner: 'StatefulSet/db' });
    putPod(a.api, { name: 'db-2', node: 'w2', labels: { app: 'db' }, owner: 'StatefulSet/db' });
    await assert.rejects(drainNode(a.kubeConfig, 'w1', { timeoutMs: 800, retryIntervalMs: 200 }), /1 pod\(s\) still on the node .*The disruption budget db needs 2 healthy pods and has 2 currently/);
    assert.equal(a.api.pods('w1').length, 1);
  });

  test('two budgets over one pod fail at once, as the eviction API refuses them', async () => {
    putBudget(a.api, { name: 'a', app: 'web', minAvailable: 0 });
    putBudget(a.api, { name: 'b', app: 'web', maxUnavailable: '50%' });
    putPod(a.api, { name: 'web-1', node: 'w1', labels: { app: 'web' }, owner: 'ReplicaSet/web-5d4' });
    const started = Date.now();
    await assert.rejects(drainNode(a.kubeConfig, 'w1', { timeoutMs: 30_000 }), /evicting default\/web-1 failed: HTTP 500: This pod has more than one PodDisruptionBudget/);
    assert.ok(Date.now() - started < 5000);
  });

  test('cordon and uncordon report whether they changed the node; a missing node is named', async () => {
    assert.equal(await cordonNode(a.kubeConfig, 'w2'), true);
    assert.equal(await cordonNode(a.kubeConfig, 'w2'), false);
    assert.equal(await uncordonNode(a.kubeConfig, 'w2'), true);
    assert.equal((a.api.node('w2')?.['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable, undefined);
    await assert.rejects(cordonNode(a.kubeConfig, 'nope'), /Node nope not found/);
  });
});

describe('drainNode with terminating pods', () => {
  let a: AdminApi;
  before(async () => {
    a = await startAdminApi({ podTerminationMs: 600 });
    putNode(a.api, 'w1');
  });
  after(async () => {
    await a.close();
  });

  test('waits until an evicted pod has finished terminating', async () => {
    putPod(a.api, { name: 'slow', node: 'w1', owner: 'ReplicaSet/slow-1' });
    const started = Date.now();
    await drainNode(a.kubeConfig, 'w1', { timeoutMs: 5000, pollIntervalMs: 50 });
    assert.ok(Date.now() - started >= 550, 'returned only after the grace period');
    assert.deepEqual(a.api.pods('w1'), []);
  });

  test('a pod still terminating at the deadline is named', async () => {
    putPod(a.api, { name: 'slow2', node: 'w1', owner: 'ReplicaSet/slow-1' });
    await assert.rejects(drainNode(a.kubeConfig, 'w1', { timeoutMs: 200, pollIntervalMs: 50 }), /default\/slow2 \(evicted but still terminating\)/);
  });
});

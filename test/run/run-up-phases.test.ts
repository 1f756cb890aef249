import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runUpPhases } from '../../src/run/up/run-up-phases.ts';
import { UpContext, type UpEvent, type UpPhase, type UpResult } from '../../src/run/up/up-phase.ts';
import { upPhases, upSteps } from '../../src/run/up.ts';
import { parseCluster } from '../../src/spec/cluster.ts';

const cluster = parseCluster(`apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: steps }
kubernetes: { version: "1.36", apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [{ name: w1, address: 127.0.0.1 }] } }
ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
`, '/tmp/steps/cluster.yaml');

function context(events: UpEvent[]): { ctx: UpContext; result: UpResult } {
  const result: UpResult = { cluster: 'steps', profile: cluster.profile, ok: false, hosts: [] };
  return { ctx: new UpContext(cluster, { onEvent: (e) => events.push(e) }, result, undefined), result };
}

// phases written for this test; the runner and the context are the real ones
const produce: UpPhase = { name: 'produce', title: 'sets hosts', plan: () => ({ run: 'making hosts' }), run: async (ctx, say) => { say('half way'); ctx.put('hosts', []); return 'made 0 hosts'; } };
const skipped: UpPhase = { name: 'optional', title: 'skipped at plan', plan: () => ({ skip: 'not wanted' }), skipped: (ctx) => ctx.put('etcd', undefined), run: async () => { throw new Error('a skipped phase never runs'); } };
const nothingToDo: UpPhase = { name: 'found-nothing', title: 'skips while running', plan: () => ({ run: 'looking' }), run: async () => ({ skipped: 'nothing there' }) };
const consume: UpPhase = { name: 'consume', title: 'reads hosts', plan: (ctx) => ({ run: `${ctx.need('hosts').length} hosts` }), run: async () => 'done' };
const explode: UpPhase = { name: 'explode', title: 'fails', plan: () => ({ run: 'trying' }), run: async () => { throw new Error('boom'); } };

test('up phases report running, ok and skipped in order, and the result is ok', async () => {
  const events: UpEvent[] = [];
  const { ctx, result } = context(events);
  assert.equal(await runUpPhases([produce, skipped, nothingToDo, consume], ctx), undefined);
  assert.deepEqual(events.map((e) => `${e.step} ${e.status} ${e.message}`), [
    'produce running making hosts', 'produce running half way', 'produce ok made 0 hosts',
    'optional skipped not wanted',
    'found-nothing running looking', 'found-nothing skipped nothing there',
    'consume running 0 hosts', 'consume ok done',
  ]);
  assert.equal(result.ok, true);
  assert.ok(ctx.has('etcd'), 'the skipped phase recorded its skip');
});

test('the first failing phase stops the list and is named in the result', async () => {
  const events: UpEvent[] = [];
  const { ctx, result } = context(events);
  const failure = await runUpPhases([produce, explode, consume], ctx);
  assert.match(failure?.message ?? '', /^explode: boom$/);
  assert.equal(result.ok, false);
  assert.equal(result.failedStep, 'explode');
  assert.deepEqual(events.at(-1), { step: 'explode', status: 'failed', message: 'explode: boom' });
  assert.ok(!events.some((e) => e.step === 'consume'), 'nothing after the failure ran');
});

test('a phase that needs what no earlier phase produced fails naming the missing step', async () => {
  const { ctx, result } = context([]);
  const failure = await runUpPhases([consume], ctx);
  assert.match(failure?.message ?? '', /hosts is not known yet: the provision step must run before this one/);
  assert.equal(result.failedStep, 'consume');
});

test('up runs provision, pki, etcd-cluster, control-plane, etcd, apply, dns, remove, verify in that order', () => {
  assert.deepEqual(upSteps, ['provision', 'pki', 'etcd-cluster', 'control-plane', 'etcd', 'apply', 'dns', 'remove', 'verify']);
  assert.ok(upPhases.every((p) => p.title.length > 0));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

const seedSpec = new URL('../../examples/seed.yaml', import.meta.url).pathname;

test('up refuses an etcd tag without a read-only lookup token before touching any provider', async () => {
  const saved = process.env['DIGITALOCEAN_ACCESS_TOKEN'];
  delete process.env['DIGITALOCEAN_ACCESS_TOKEN'];
  try {
    const r = await runCli('up', '-f', seedSpec);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /etcd\.discovery\.digitaloceanTag \(k8s-etcd\).*--lookup-token-file/s);
    assert.doesNotMatch(r.stdout, /\[1\/\d\] provision/);
  } finally {
    if (saved !== undefined) process.env['DIGITALOCEAN_ACCESS_TOKEN'] = saved;
  }
});

test('up --help names its nine steps in order and how to resume', async () => {
  const r = await runCli('up', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /1\. provision {2}2\. pki {2}3\. etcd-cluster {2}4\. control-plane {2}5\. etcd {2}6\. apply {2}7\. dns {2}8\. remove {2}9\. verify/);
  assert.match(r.stdout, /^ {2}control-plane {2}kube-apiserver, controller-manager, scheduler on the masters; waits for \/readyz$/m);
  assert.match(r.stdout, /run `up` again/);
});

test('up rejects a malformed --wait with exit 2', async () => {
  const r = await runCli('up', '-f', seedSpec, '--wait', 'soon');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--wait: not a duration/);
});

test('up refuses --events ndjson with --output json (both write stdout) and any other events format, with exit 2', async () => {
  const both = await runCli('up', '-f', seedSpec, '--events', 'ndjson', '--output', 'json');
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /--events ndjson and --output json both write stdout/);
  const other = await runCli('up', '-f', seedSpec, '--events', 'yaml');
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /Allowed choices are ndjson/);
});

test('up\'s report over 1,000 hosts: rows for the failed hosts only, the counts and ten changed names; with each host (≤ 20 hosts or -v) a row per host', async () => {
  const { upSummaryLines } = await import('../../src/cli/commands/up.ts');
  const hosts = Array.from({ length: 1000 }, (_, i) => ({ name: `w${i + 1}`, publicAddress: `198.51.100.${i % 250}`, privateAddress: `10.0.${Math.floor(i / 250)}.${i % 250}`, status: (i % 400 === 7 ? 'failed' : i < 500 ? 'changed' : 'unchanged') as 'failed' | 'changed' | 'unchanged', actions: i < 500 ? 12 : 0 }));
  const result = { cluster: 'c', profile: 'modern', ok: false, failedStep: 'apply', error: 'apply failed on 3 of 1000 host(s): w8, w408, w808', hosts } as unknown as Parameters<typeof upSummaryLines>[0];
  const lines = upSummaryLines(result, false);
  assert.deepEqual(lines.filter((l) => /^w\d+ /.test(l)).map((l) => l.split(/\s+/)[0]), ['w8', 'w408', 'w808']);
  assert.ok(lines.includes('hosts: 1000: 498 changed, 499 unchanged, 3 failed; changed: w1, w2, w3, w4, w5, w6, w7, w9, w10, w11 and 488 more (-v lists every host)'), lines.join('\n'));
  assert.equal(lines.at(-1), 'Up stopped at apply: apply failed on 3 of 1000 host(s): w8, w408, w808');
  assert.ok(lines.length <= 6, lines.join('\n'));
  assert.equal(upSummaryLines(result, true).filter((l) => /^w\d+ /.test(l)).length, 1000);
});

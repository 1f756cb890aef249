// The static provider remembers the hosts `up` brought up (.kubewright/<cluster>/static.json), so
// a host taken out of provider.static.hosts is still known as retired until `release` forgets it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { CorruptStateError } from '../../src/local-disk/state-file.ts';
import { StaticProvider } from '../../src/providers/static/static-provider.ts';
import { readStaticHosts, staticStateFile } from '../../src/providers/static/static-state.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-static-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function specWith(hosts: string[]): Cluster {
  const file = join(dir, 'cluster.yaml');
  const text = `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: st }
kubernetes: { version: "1.36.2", apiServer: "https://10.0.0.1:6443", clusterDNS: 10.32.0.10 }
provider:
  static:
    hosts:
${hosts.map((h, i) => `      - { name: ${h}, address: 192.0.2.${10 + i}, privateAddress: 10.0.0.${10 + i} }`).join('\n')}
`;
  return parseCluster(text, file);
}

test('a host taken out of the spec stays recorded as retired until released; one still in the spec is never released', async () => {
  const before = await new StaticProvider(specWith(['a', 'b', 'c'])).ensure();
  assert.deepEqual(before.report.extras, []);
  assert.deepEqual((await readStaticHosts(specWith(['a']))).map((h) => h.name), ['a', 'b', 'c']);

  const smaller = new StaticProvider(specWith(['a', 'c']));
  const ensured = await smaller.ensure();
  assert.deepEqual(ensured.hosts.map((h) => h.name), ['a', 'c']);
  assert.deepEqual(ensured.report.extras, ['b'], 'reported, kept');
  const retired = await smaller.retired();
  assert.deepEqual(retired.map((h) => [h.name, h.address, h.privateAddress]), [['b', '192.0.2.11', '10.0.0.11']], 'reachable as it was recorded');

  await assert.rejects(smaller.release([{ name: 'a', address: '192.0.2.10', port: 22, user: 'root' }]), /refusing to forget a: still in provider\.static\.hosts/);
  assert.deepEqual(await smaller.release(retired), ['b']);
  assert.deepEqual((await readStaticHosts(specWith(['a']))).map((h) => h.name), ['a', 'c']);
  assert.deepEqual(await smaller.retired(), []);
});

test('a corrupt static state file is an error naming it, not an empty list', async () => {
  const cluster = specWith(['a']);
  await mkdir(dirname(staticStateFile(cluster)), { recursive: true });
  await writeFile(staticStateFile(cluster), '{"version": 1, "hosts": [');
  await assert.rejects(new StaticProvider(cluster).retired(), (e: unknown) => {
    assert.ok(e instanceof CorruptStateError);
    assert.match(e.message, /static\.json: not JSON/);
    assert.match(e.hint ?? '', /up --prune/);
    return true;
  });
});

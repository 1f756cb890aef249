// kubewright's state files are validated on read: a missing file is "no state", a corrupt one is
// an error naming the file and how to recover — never an empty state that forgets what exists.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CorruptStateError } from '../../src/local-disk/state-file.ts';
import { readDropletState, writeDropletState } from '../../src/providers/digitalocean/droplet-state.ts';
import { readLabState, writeLabState } from '../../src/providers/lab/lab-state.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-state-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const droplets = { version: 1 as const, cluster: 'demo', tag: 'k8s-worker', hosts: [{ name: 'k8s-worker-0.example.com', id: 7, publicAddress: '203.0.113.7', privateAddress: '10.0.0.7', hostKeyPinned: true }] };

test('a DigitalOcean state file reads back as written; a missing one is no state', async () => {
  const f = join(dir, 'do', 'digitalocean.json');
  assert.equal(await readDropletState(f), undefined);
  await writeDropletState(f, droplets);
  assert.deepEqual(await readDropletState(f), droplets);
});

for (const [what, text, says] of [
  ['truncated', '{"version": 1, "hosts": [', /not JSON/],
  ['of another version', JSON.stringify({ ...droplets, version: 2 }), /version/],
  ['with a droplet id that is not a number', JSON.stringify({ ...droplets, hosts: [{ ...droplets.hosts[0], id: 'seven' }] }), /hosts\.0\.id/],
] as const) {
  test(`a DigitalOcean state file ${what} is an error naming the file and the way back`, async () => {
    const f = join(dir, `do-${what.replaceAll(' ', '-')}.json`);
    await writeFile(f, text);
    await assert.rejects(readDropletState(f), (e: unknown) => {
      assert.ok(e instanceof CorruptStateError);
      assert.match(e.message, new RegExp(`state file ${f.replaceAll('.', '\\.')}: `));
      assert.match(e.message, says);
      assert.match(e.describe(), /kubewright provision/);
      return true;
    });
  });
}

test('a lab state file with a machine lacking its pid is an error, not an empty lab', async () => {
  const d = join(dir, 'lab');
  const state = { cluster: 'demo', bridge: 'kwlab0', subnet: '10.213.0.0/24', bridgeAddress: '10.213.0.1', cgroups: [], knownHostsPath: '/tmp/kh', machines: [{ name: 'demo-w0', address: '10.213.0.11', pid: 4242, startTime: '99' }] };
  await writeLabState(d, state);
  assert.deepEqual(await readLabState(d), state);
  await writeFile(join(d, 'state.json'), JSON.stringify({ ...state, machines: [{ name: 'demo-w0', address: '10.213.0.11' }] }));
  await assert.rejects(readLabState(d), (e: unknown) => e instanceof CorruptStateError && /machines\.0\.pid/.test(e.message) && /lab down|lab up/.test(e.describe()));
});

test('render of a DigitalOcean spec with a corrupt state file exits 2 and names the file', async () => {
  const specDir = join(dir, 'spec');
  const spec = join(specDir, 'cluster.yaml');
  await mkdir(specDir, { recursive: true });
  await copyFile(new URL('../../examples/digitalocean.yaml', import.meta.url), spec);
  const name = parseCluster(await readFile(spec, 'utf8'), spec).name;
  const stateFile = join(specDir, '.kubewright', name, 'digitalocean.json');
  await mkdir(join(specDir, '.kubewright', name), { recursive: true });
  await writeFile(stateFile, '{ not json');
  const r = await runCli('render', '-f', spec, '--out', join(dir, 'out'));
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(stateFile), r.stderr);
});

// kubewright lists the etcd members once at apply time and renders /etc/flannel/etcd-members on
// every node, so the real etcd-lookup script finds a fresh file and asks no API. The DigitalOcean
// API is the simulator (TEST DOUBLE) on loopback; the script runs for real with /bin/sh.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderCluster } from '../../src/render/cluster.ts';
import { ETCD_MEMBERS_PATH, renderEtcdLookupScript } from '../../src/render/etcd-lookup.ts';
import { etcdMembersForNodes } from '../../src/run/etcd-members-for-nodes.ts';
import { DigitalOceanSimulator } from '../support/do-simulator.ts';
import { makeFakeRoot, runConfined } from '../support/fake-root.ts';
import { testCluster } from '../etcd/cluster-spec.ts';
import { plannedHosts } from '../../src/providers/provider.ts';

const ADMIN = 'dop_v1_members0admin';
const READ_ONLY = 'dop_v1_members0readonly0lookup';
let sim: DigitalOceanSimulator;
let dir: string;
before(async () => {
  sim = new DigitalOceanSimulator({ token: ADMIN, readOnlyTokens: [READ_ONLY] });
  await sim.start();
  dir = await mkdtemp(join(tmpdir(), 'kw-members-'));
});
after(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tagged = testCluster({ profile: 'modern', tag: 'k8s-etcd' });

test('one listing with the lookup token renders the members file on every node, and a changed list restarts flanneld', async () => {
  sim.reset();
  sim.seed({ name: 'etcd-1', tags: ['k8s-etcd'] });
  sim.seed({ name: 'etcd-0', tags: ['k8s-etcd'] });
  const found = await etcdMembersForNodes(tagged, READ_ONLY, { apiUrl: sim.url });
  assert.deepEqual(found, { members: ['https://10.135.0.4:2379', 'https://10.135.0.5:2379'], note: undefined });
  assert.equal(sim.requests.length, 1, 'one request for the whole fleet');
  assert.equal(sim.requests[0]?.readOnly, true, 'made with the nodes\' read-only token');

  const rendered = renderCluster({ cluster: tagged, hosts: plannedHosts(tagged), lookupToken: READ_ONLY, etcdMembers: found.members });
  assert.ok(rendered.hosts.size >= 2);
  for (const h of rendered.hosts.values()) {
    const f = h.files.find((x) => x.path === ETCD_MEMBERS_PATH);
    assert.deepEqual(f, { path: ETCD_MEMBERS_PATH, mode: 0o644, contents: 'ETCD_MEMBERS=https://10.135.0.4:2379,https://10.135.0.5:2379\n' });
    assert.ok(h.units.find((u) => u.name === 'flanneld.service')?.dependsOn.includes(ETCD_MEMBERS_PATH));
  }
  const without = renderCluster({ cluster: tagged, hosts: plannedHosts(tagged), lookupToken: READ_ONLY });
  assert.equal(without.hosts.values().next().value?.files.some((x) => x.path === ETCD_MEMBERS_PATH), false, 'no members, no file: the node looks them up');
});

test('the real script on a node with the rendered file asks no API', async () => {
  // the node: a fake root the script sees as `/` (test/support/fake-root.ts)
  const root = join(dir, 'node');
  await makeFakeRoot(root, dir);
  await mkdir(join(root, 'etc/flannel'), { recursive: true });
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  const rendered = renderCluster({ cluster: tagged, hosts: plannedHosts(tagged), lookupToken: READ_ONLY, etcdMembers: ['https://10.135.0.4:2379'] });
  const host = rendered.hosts.values().next().value;
  assert.ok(host);
  for (const f of host.files.filter((x) => x.path.startsWith('/etc/flannel/'))) {
    await writeFile(join(root, f.path), f.contents);
    await chmod(join(root, f.path), f.mode);
  }
  await writeFile(join(root, 'usr/local/bin/etcd-lookup'), renderEtcdLookupScript(tagged), { mode: 0o755 });
  // nothing listens on this https URL: any API call would fail the run
  const r = await runConfined(root, dir, '/bin/sh /usr/local/bin/etcd-lookup', { PATH: '/usr/bin:/bin', DIGITALOCEAN_API_URL: 'https://127.0.0.1:9', ETCD_LOOKUP_ATTEMPTS: '1' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /using it without asking the API/);
});

test('when the listing fails, nothing is rendered and the note says the nodes look the members up', async () => {
  sim.reset();
  sim.inject({ kind: '500', count: 5 });
  const found = await etcdMembersForNodes(tagged, READ_ONLY, { apiUrl: sim.url });
  assert.equal(found.members, undefined);
  assert.match(found.note ?? '', /could not be listed with the lookup token .*each node looks them up itself/);
  assert.ok(!(found.note ?? '').includes(READ_ONLY), 'the token is not in the note');
  const rejected = await etcdMembersForNodes(tagged, 'dop_v1_wrong0token', { apiUrl: sim.url });
  assert.equal(rejected.members, undefined);
  assert.ok(!(rejected.note ?? '').includes('dop_v1_wrong0token'));
});

test('no tag or no lookup token: no listing at all', async () => {
  sim.reset();
  assert.deepEqual(await etcdMembersForNodes(tagged, undefined, { apiUrl: sim.url }), { members: undefined, note: undefined });
  const fixed = testCluster({ profile: 'modern', endpoints: ['https://10.0.0.5:2379'] });
  assert.deepEqual(await etcdMembersForNodes(fixed, READ_ONLY, { apiUrl: sim.url }), { members: undefined, note: undefined });
  assert.equal(sim.requests.length, 0);
});

// Against a real 3-member etcd 3.4 (Debian etcd-server) with TLS client-cert auth and --enable-v2:
// the network config through v2 (seed) and v3 (modern), idempotence, leases, one member down.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { discoverEtcdMembers } from '../../src/etcd/etcd-discovery.ts';
import { NetworkConfigChangeRefusedError } from '../../src/etcd/etcd-errors.ts';
import { openEtcdStore, type EtcdConnection } from '../../src/etcd/etcd-store.ts';
import { listFlannelLeases, mapLeasesToNodes } from '../../src/etcd/flannel-leases.ts';
import { writeFlannelNetworkConfig } from '../../src/etcd/flannel-network-config.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { testCluster, testClusterYaml } from './cluster-spec.ts';

let etcd: EtcdTestCluster;
let conn: EtcdConnection;

before(async () => {
  etcd = await startEtcdCluster({ members: 3, enableV2: true });
  conn = { endpoints: etcd.endpoints, tls: { caPem: etcd.certs.caPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem } };
});
after(async () => {
  await etcd?.stop();
});

async function v2ModifiedIndex(key: string): Promise<number> {
  const r = await etcd.etcdctl(['-o', 'json', 'get', key], { api: 'v2' });
  assert.equal(r.code, 0, r.stderr);
  const index = (JSON.parse(r.stdout) as { node?: { modifiedIndex?: number } }).node?.modifiedIndex;
  assert.ok(typeof index === 'number', r.stdout);
  return index;
}

async function v3ModRevision(key: string): Promise<number> {
  const r = await etcd.etcdctl(['get', key, '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const kvs = (JSON.parse(r.stdout) as { kvs?: { mod_revision: number }[] }).kvs;
  assert.ok(kvs?.[0], `${key} exists in v3`);
  return kvs[0].mod_revision;
}

test('the seed profile writes the network config through the v2 keys API and a re-run writes nothing', async () => {
  const cluster = testCluster({ profile: 'seed', endpoints: etcd.endpoints, prefix: '/seed.test/network' });
  assert.equal(cluster.etcd.api, 'v2');
  const store = openEtcdStore(cluster.etcd.api, conn);
  try {
    const first = await writeFlannelNetworkConfig(store, cluster);
    assert.equal(first.action, 'create');
    assert.equal(first.written, true);
    const index = await v2ModifiedIndex('/seed.test/network/config');
    assert.equal(first.revision, index);

    const read = await etcd.etcdctl(['get', '/seed.test/network/config'], { api: 'v2' });
    assert.deepEqual(JSON.parse(read.stdout), { Network: '10.200.0.0/16', SubnetLen: 24, Backend: { Type: 'vxlan' } });

    const again = await writeFlannelNetworkConfig(store, cluster);
    assert.equal(again.action, 'unchanged');
    assert.equal(again.written, false);
    assert.equal(await v2ModifiedIndex('/seed.test/network/config'), index, 'the key was not rewritten');

    // v2 and v3 are separate keyspaces: flannel 0.9 reads v2, so nothing may land in v3
    const v3 = await etcd.etcdctl(['get', '/seed.test/network/config', '--print-value-only']);
    assert.equal(v3.stdout.trim(), '');
  } finally {
    store.close();
  }
});

test('the modern profile writes the network config through v3 and a re-run keeps its mod revision', async () => {
  const cluster = testCluster({ profile: 'modern', endpoints: etcd.endpoints, prefix: '/modern.test/network' });
  assert.equal(cluster.etcd.api, 'v3');
  const store = openEtcdStore(cluster.etcd.api, conn);
  try {
    const first = await writeFlannelNetworkConfig(store, cluster);
    assert.equal(first.action, 'create');
    const rev = await v3ModRevision('/modern.test/network/config');
    assert.equal(first.revision, rev);
    const read = await etcd.etcdctl(['get', '/modern.test/network/config', '--print-value-only']);
    assert.deepEqual(JSON.parse(read.stdout), { Network: '10.200.0.0/16', SubnetLen: 24, Backend: { Type: 'vxlan' } });

    const again = await writeFlannelNetworkConfig(store, cluster);
    assert.equal(again.action, 'unchanged');
    assert.equal(await v3ModRevision('/modern.test/network/config'), rev, 'the key was not rewritten');
  } finally {
    store.close();
  }
});

test('an equal config written by hand with other spacing and key order counts as unchanged', async () => {
  const cluster = testCluster({ profile: 'modern', endpoints: etcd.endpoints, prefix: '/hand.test/network' });
  const put = await etcd.etcdctl(['put', '/hand.test/network/config', '{ "Backend": {"Type": "vxlan"}, "SubnetLen": 24, "Network": "10.200.0.0/16" }']);
  assert.equal(put.code, 0, put.stderr);
  const rev = await v3ModRevision('/hand.test/network/config');
  const store = openEtcdStore('v3', conn);
  try {
    const r = await writeFlannelNetworkConfig(store, cluster);
    assert.equal(r.action, 'unchanged');
    assert.equal(await v3ModRevision('/hand.test/network/config'), rev);
  } finally {
    store.close();
  }
});

for (const api of ['v2', 'v3'] as const) {
  test(`a changed pod network is refused while flannel holds leases (${api}) and written with force`, async () => {
    const prefix = `/change-${api}.test/network`;
    const profile = api === 'v2' ? 'seed' : 'modern';
    const store = openEtcdStore(api, conn);
    try {
      await writeFlannelNetworkConfig(store, testCluster({ profile, endpoints: etcd.endpoints, prefix }));
      const lease = JSON.stringify({ PublicIP: '192.0.2.10', BackendType: 'vxlan', BackendData: { VtepMAC: '0a:0b:0c:0d:0e:0f' } });
      const ins = api === 'v2'
        ? await etcd.etcdctl(['set', '--ttl', '600', `${prefix}/subnets/10.200.5.0-24`, lease], { api: 'v2' })
        : await etcd.etcdctl(['put', `${prefix}/subnets/10.200.5.0-24`, lease]);
      assert.equal(ins.code, 0, ins.stderr);

      const changed = testCluster({ profile, endpoints: etcd.endpoints, prefix, podCIDR: '10.201.0.0/16' });
      await assert.rejects(writeFlannelNetworkConfig(store, changed), (e: unknown) => {
        assert.ok(e instanceof NetworkConfigChangeRefusedError);
        assert.match(e.message, /Network "10\.200\.0\.0\/16" → "10\.201\.0\.0\/16"/);
        assert.match(e.message, /1 flannel subnet lease exist/);
        assert.match(e.hint ?? '', /--force/);
        return true;
      });
      const forced = await writeFlannelNetworkConfig(store, changed, { force: true });
      assert.equal(forced.action, 'update');
      const got = await store.get(`${prefix}/config`);
      assert.equal((JSON.parse(got?.value ?? '{}') as { Network?: string }).Network, '10.201.0.0/16');
    } finally {
      store.close();
    }
  });
}

test('a changed pod network with no leases yet is written without force', async () => {
  const prefix = '/fresh.test/network';
  const store = openEtcdStore('v3', conn);
  try {
    await writeFlannelNetworkConfig(store, testCluster({ profile: 'modern', endpoints: etcd.endpoints, prefix }));
    const r = await writeFlannelNetworkConfig(store, testCluster({ profile: 'modern', endpoints: etcd.endpoints, prefix, podCIDR: '10.202.0.0/16' }));
    assert.equal(r.action, 'update');
    assert.deepEqual(r.changes, ['Network "10.200.0.0/16" → "10.202.0.0/16"']);
  } finally {
    store.close();
  }
});

for (const api of ['v2', 'v3'] as const) {
  test(`leases inserted as flannel writes them (${api}) map to nodes and the node without one is reported`, async () => {
    const prefix = `/leases-${api}.test/network`;
    const cluster = testCluster({ profile: api === 'v2' ? 'seed' : 'modern', endpoints: etcd.endpoints, prefix });
    const leases: [string, string][] = [
      ['10.200.5.0-24', '192.0.2.10'], // w0 by public address
      ['10.200.7.0-24', '10.133.0.11'], // w1 by private address (flanneld -iface on the private NIC)
      ['10.200.9.0-24', '198.51.100.1'], // the master: no worker
    ];
    let leaseId = '';
    if (api === 'v3') {
      const g = await etcd.etcdctl(['lease', 'grant', '600']);
      leaseId = /lease ([0-9a-f]+) granted/.exec(g.stdout)?.[1] ?? '';
      assert.ok(leaseId, g.stdout + g.stderr);
    }
    for (const [subnet, ip] of leases) {
      const value = JSON.stringify({ PublicIP: ip, PublicIPv6: null, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '66:3d:1a:2b:3c:4d' } });
      const key = `${prefix}/subnets/${subnet}`;
      const r = api === 'v2'
        ? await etcd.etcdctl(['set', '--ttl', '600', key, value], { api: 'v2' })
        : await etcd.etcdctl(['put', '--lease', leaseId, key, value]);
      assert.equal(r.code, 0, r.stderr);
    }
    const store = openEtcdStore(api, conn);
    try {
      const found = await listFlannelLeases(store, prefix);
      assert.deepEqual(found.map((l) => [l.subnet, l.publicIp, l.backendType]), [
        ['10.200.5.0/24', '192.0.2.10', 'vxlan'],
        ['10.200.7.0/24', '10.133.0.11', 'vxlan'],
        ['10.200.9.0/24', '198.51.100.1', 'vxlan'],
      ]);
      const m = mapLeasesToNodes(found, plannedHosts(cluster));
      assert.deepEqual(m.assigned.map((a) => [a.host.name, a.lease.subnet, a.matchedAddress]), [
        ['w0', '10.200.5.0/24', '192.0.2.10'],
        ['w1', '10.200.7.0/24', '10.133.0.11'],
      ]);
      assert.deepEqual(m.nodesWithoutLease.map((h) => h.name), ['w2']);
      assert.deepEqual(m.unmatchedLeases.map((l) => l.subnet), ['10.200.9.0/24']);
    } finally {
      store.close();
    }
  });
}

test("discovery finds every member from one static endpoint through etcd's member list", async () => {
  const cluster = testCluster({ profile: 'modern', endpoints: [etcd.endpoints[1] ?? ''] });
  const m = await discoverEtcdMembers(cluster, { memberList: { tls: conn.tls } });
  assert.deepEqual(m.endpoints, [...etcd.endpoints].sort());
  assert.deepEqual(m.sources[etcd.endpoints[1] ?? ''], ['static', 'member-list']);
  assert.deepEqual(m.sources[etcd.endpoints[0] ?? ''], ['member-list']);
});

test('with one member stopped, discovery and writes through v2 and v3 still succeed', async () => {
  await etcd.stopMember(0);
  try {
    // the stopped member first in the list, so the client has to move on
    const endpoints = [etcd.endpoints[0] ?? '', etcd.endpoints[1] ?? '', etcd.endpoints[2] ?? ''];
    const members = await discoverEtcdMembers(testCluster({ profile: 'modern', endpoints }), { memberList: { tls: conn.tls } });
    assert.deepEqual(members.endpoints, [...etcd.endpoints].sort(), 'the stopped member is still a member');
    for (const api of ['v2', 'v3'] as const) {
      const cluster = testCluster({ profile: api === 'v2' ? 'seed' : 'modern', endpoints, prefix: `/degraded-${api}.test/network` });
      const store = openEtcdStore(api, { ...conn, endpoints });
      try {
        const r = await writeFlannelNetworkConfig(store, cluster);
        assert.equal(r.action, 'create', api);
        assert.equal((await writeFlannelNetworkConfig(store, cluster)).action, 'unchanged', api);
      } finally {
        store.close();
      }
    }
  } finally {
    await etcd.startMember(0);
  }
});

test('the etcd commands find the members, write the config once and report a node without a lease', async () => {
  const spec = join(etcd.dir, 'cli-cluster.yaml');
  const prefix = '/cli.test/network';
  await writeFile(spec, testClusterYaml({ profile: 'modern', endpoints: [etcd.endpoints[2] ?? ''], prefix, pkiDir: join(etcd.dir, 'pki') }));

  const members = await runCli('etcd', 'members', '-f', spec);
  assert.equal(members.code, 0, members.stderr);
  assert.equal(members.stdout, `ETCD_MEMBERS=${[...etcd.endpoints].sort().join(',')}`);

  const dry = await runCli('etcd', 'network', '-f', spec, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^etcd v3: \/cli\.test\/network\/config would create /);
  const verbose = await runCli('etcd', 'network', '-f', spec, '--dry-run', '--verbose');
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /^· etcd v3 https:\/\/127\.0\.0\.1:\d+: read \/cli\.test\/network\/config → ok \(\d+ ms\)$/m, 'every etcd operation with -v');
  assert.doesNotMatch(dry.stderr, /^· /m);
  assert.equal((await etcd.etcdctl(['get', `${prefix}/config`, '--print-value-only'])).stdout.trim(), '', 'a dry run writes nothing');

  const first = await runCli('etcd', 'network', '-f', spec);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^etcd v3: \/cli\.test\/network\/config created \(\{"Network":"10\.200\.0\.0\/16","SubnetLen":24,"Backend":\{"Type":"vxlan"\}\}, revision \d+\)$/);
  const again = await runCli('etcd', 'network', '-f', spec, '--output', 'json');
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { action: string; written: boolean }).action, 'unchanged');

  const lease = JSON.stringify({ PublicIP: '192.0.2.11', BackendType: 'vxlan', BackendData: { VtepMAC: '66:3d:1a:2b:3c:4e' } });
  assert.equal((await etcd.etcdctl(['put', `${prefix}/subnets/10.200.3.0-24`, lease])).code, 0);
  const leases = await runCli('etcd', 'leases', '-f', spec);
  assert.equal(leases.code, 3, 'a node without a lease fails verification');
  assert.match(leases.stdout, /^w1: 10\.200\.3\.0\/24 \(PublicIP 192\.0\.2\.11\)$/m);
  assert.match(leases.stdout, /^w0: no lease$/m);
  assert.match(leases.stderr, /no subnet lease under \/cli\.test\/network\/subnets for w0, w2/);
});

// Pure parts: the discovery union, endpoint spelling and order (checked against the `sort` the
// node script uses), lease parsing and mapping.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { discoverEtcdMembers } from '../../src/etcd/etcd-discovery.ts';
import { formatEtcdMembersLine, normalizeEtcdEndpoint, sortEndpoints } from '../../src/spec/etcd-endpoint.ts';
import { EtcdUnreachableError } from '../../src/etcd/etcd-errors.ts';
import { mapLeasesToNodes, parseFlannelLease, type FlannelLease } from '../../src/etcd/flannel-leases.ts';
import { InputError } from '../../src/errors.ts';
import type { Host } from '../../src/spec/host.ts';
import { testCluster } from './cluster-spec.ts';

test('discovery is the deduplicated union of tagged droplets and static endpoints', async () => {
  const cluster = testCluster({ profile: 'modern', tag: 'k8s-etcd', endpoints: ['https://10.0.0.5:2379/', 'https://10.0.0.9:2379'] });
  const asked: string[] = [];
  // test double for the DigitalOcean side (the CLI passes the DO provider's listEtcdEndpoints)
  const listDropletPrivateIps = async (tag: string): Promise<string[]> => {
    asked.push(tag);
    return ['10.0.0.7', '10.0.0.5', '10.0.0.7'];
  };
  const m = await discoverEtcdMembers(cluster, { listDropletPrivateIps });
  assert.deepEqual(asked, ['k8s-etcd']);
  assert.deepEqual(m.endpoints, ['https://10.0.0.5:2379', 'https://10.0.0.7:2379', 'https://10.0.0.9:2379']);
  assert.deepEqual(m.sources, {
    'https://10.0.0.5:2379': ['digitalocean', 'static'],
    'https://10.0.0.7:2379': ['digitalocean'],
    'https://10.0.0.9:2379': ['static'],
  });
  assert.equal(formatEtcdMembersLine(m.endpoints), 'ETCD_MEMBERS=https://10.0.0.5:2379,https://10.0.0.7:2379,https://10.0.0.9:2379');
});

test('a tag without access to the DigitalOcean API is an input error that says how to give it', async () => {
  await assert.rejects(discoverEtcdMembers(testCluster({ profile: 'modern', tag: 'k8s-etcd' })), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^etcd\.discovery\.digitaloceanTag: finding droplets tagged "k8s-etcd" needs the DigitalOcean API/);
    assert.match(e.hint ?? '', /DIGITALOCEAN_ACCESS_TOKEN/);
    return true;
  });
});

test('asking for the member list with nothing to ask is "no reachable member" with the spec fix', async () => {
  await assert.rejects(
    discoverEtcdMembers(testCluster({ profile: 'modern' }), { memberList: { tls: { caPem: '' } } }),
    (e: unknown) => e instanceof EtcdUnreachableError && /no endpoints to try/.test(e.message) && /etcd\.discovery/.test(e.hint ?? ''),
  );
});

test('endpoints are spelled scheme://host:port', () => {
  assert.equal(normalizeEtcdEndpoint(' https://10.0.0.5:2379/ '), 'https://10.0.0.5:2379');
  assert.equal(normalizeEtcdEndpoint('https://etcd-0.example.com:2379/v2/keys'), 'https://etcd-0.example.com:2379');
});

test("kubewright's endpoint order is the node script's LC_ALL=C sort -u", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const endpoint = fc
    .tuple(fc.constantFrom('http', 'https'), octet, octet, octet, octet, fc.constantFrom(2379, 4001, 12379))
    .map(([s, a, b, c, d, p]) => `${s}://${a}.${b}.${c}.${d}:${p}`);
  fc.assert(
    fc.property(fc.array(endpoint, { maxLength: 12 }), (list) => {
      const sh = execFileSync('sort', ['-u'], { input: list.map((e) => `${e}\n`).join(''), env: { LC_ALL: 'C', PATH: process.env['PATH'] ?? '/usr/bin:/bin' } })
        .toString()
        .split('\n')
        .filter(Boolean);
      assert.deepEqual(sortEndpoints(list), sh);
    }),
    { numRuns: 40 },
  );
});

const prefix = '/flannel.com/network';

test('leases parse as flannel writes them, including dual-stack keys and unreadable values', () => {
  assert.deepEqual(parseFlannelLease(`${prefix}/subnets/10.200.5.0-24`, '{"PublicIP":"192.0.2.10","BackendType":"vxlan","BackendData":{"VtepMAC":"x"}}', prefix), {
    key: `${prefix}/subnets/10.200.5.0-24`, subnet: '10.200.5.0/24', publicIp: '192.0.2.10', backendType: 'vxlan',
  });
  assert.equal(parseFlannelLease(`${prefix}/subnets/10.244.1.0-24&fd00:10:244:1::-64`, '{"PublicIP":"192.0.2.11"}', prefix)?.subnet, '10.244.1.0/24');
  assert.deepEqual(parseFlannelLease(`${prefix}/subnets/10.200.6.0-24`, 'not json', prefix)?.publicIp, undefined);
  assert.equal(parseFlannelLease(`${prefix}/config`, '{}', prefix), undefined);
  assert.equal(parseFlannelLease(`${prefix}/subnets/garbage`, '{}', prefix), undefined);
});

function host(name: string, publicAddress?: string, privateAddress?: string): Host {
  return { name, address: publicAddress, port: 22, user: 'root', publicAddress, privateAddress };
}

function lease(subnet: string, publicIp: string | undefined): FlannelLease {
  return { key: `${prefix}/subnets/${subnet.replace('/', '-')}`, subnet, publicIp, backendType: 'vxlan' };
}

test('each lease goes to at most one node and a node claims at most one lease', () => {
  const hosts = [host('w0', '192.0.2.10', '10.133.0.10'), host('w1', '192.0.2.11'), host('w2', undefined, undefined)];
  const leases = [lease('10.200.1.0/24', '192.0.2.10'), lease('10.200.2.0/24', '192.0.2.10'), lease('10.200.3.0/24', undefined), lease('10.200.4.0/24', '10.133.0.10')];
  const m = mapLeasesToNodes(leases, hosts);
  assert.deepEqual(m.assigned.map((a) => [a.host.name, a.lease.subnet]), [['w0', '10.200.1.0/24']]);
  assert.deepEqual(m.nodesWithoutLease.map((h) => h.name), ['w1', 'w2']);
  assert.deepEqual(m.unmatchedLeases.map((l) => l.subnet), ['10.200.2.0/24', '10.200.3.0/24', '10.200.4.0/24']);
});

test('every lease and every node is accounted for exactly once', () => {
  const ip = fc.constantFrom('192.0.2.1', '192.0.2.2', '192.0.2.3', '10.0.0.1', '10.0.0.2');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.option(ip, { nil: undefined }), fc.option(ip, { nil: undefined })), { maxLength: 6 }),
      fc.array(fc.option(ip, { nil: undefined }), { maxLength: 8 }),
      (hs, ls) => {
        const hosts = hs.map(([pub, priv], i) => host(`w${i}`, pub, priv));
        const leases = ls.map((p, i) => lease(`10.200.${i}.0/24`, p));
        const m = mapLeasesToNodes(leases, hosts);
        assert.equal(m.assigned.length + m.nodesWithoutLease.length, hosts.length);
        assert.equal(m.assigned.length + m.unmatchedLeases.length, leases.length);
        for (const a of m.assigned) assert.ok([a.host.publicAddress, a.host.privateAddress, a.host.address].includes(a.lease.publicIp));
      },
    ),
    { numRuns: 200 },
  );
});

// removeEtcdMember against a real etcd (Debian's etcd, 3 members on loopback, mutual TLS): a
// member leaves only through MemberRemove, and never when the members left would lose quorum.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EtcdQuorumRefusal, listEtcdMembers, removeEtcdMember, type EtcdClusterAccess } from '../../src/etcd/etcd-membership.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';

let etcd: EtcdTestCluster;
let access: EtcdClusterAccess;

before(async () => {
  etcd = await startEtcdCluster({ members: 3 });
  access = { tls: { caPem: etcd.certs.caPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem } };
});

after(async () => {
  await etcd?.stop();
});

const peerOf = async (name: string): Promise<string> => {
  const m = (await listEtcdMembers(etcd.endpoints, access))?.find((x) => x.name === name);
  assert.ok(m, `member ${name} listed`);
  return m.peerURLs[0]!;
};

test('with one of three members down, removing a healthy one is refused before etcd is asked: the two left would hold only one healthy member', async () => {
  const kw1 = await peerOf('kw1');
  await etcd.stopMember(2);
  try {
    await assert.rejects(removeEtcdMember(etcd.endpoints, kw1, access), (e: unknown) => {
      assert.ok(e instanceof EtcdQuorumRefusal);
      assert.match(e.message, /^etcd: refusing to remove kw1 \(http:\/\/127\.0\.0\.1:\d+\): the 2 member\(s\) left would need 2 healthy for a quorum, 1 answer \(down: kw2\)$/);
      assert.match(e.hint ?? '', /start the members that are down first/);
      return true;
    });
    assert.equal((await listEtcdMembers(etcd.endpoints, access))?.length, 3, 'still three members');
  } finally {
    await etcd.startMember(2);
  }
});

test('removing the member that is down keeps the quorum: it goes through MemberRemove, and etcdctl no longer lists it', async () => {
  const kw2 = await peerOf('kw2');
  await etcd.stopMember(2);
  const r = await removeEtcdMember(etcd.endpoints.slice(0, 2), kw2, access);
  assert.deepEqual([r.removed, r.member?.name], [true, 'kw2']);
  const listed = await etcd.etcdctl(['member', 'list'], { endpoints: etcd.endpoints.slice(0, 2) });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n').map((l) => l.split(', ')[2]).sort(), ['kw0', 'kw1']);
  // a second removal of the same peer URL finds nothing to do
  assert.deepEqual(await removeEtcdMember(etcd.endpoints.slice(0, 2), kw2, access), { removed: false });
});

test('of two members, one is not removed while the other is down; the last member is never removed', async () => {
  const [kw0, kw1] = [await peerOf('kw0'), await peerOf('kw1')];
  await etcd.stopMember(1);
  try {
    await assert.rejects(removeEtcdMember(etcd.endpoints.slice(0, 1), kw0, access), /the 1 member\(s\) left would need 1 healthy for a quorum, 0 answer \(down: kw1\)/);
  } finally {
    await etcd.startMember(1);
  }
  assert.equal((await removeEtcdMember(etcd.endpoints.slice(0, 2), kw1, access)).removed, true);
  await assert.rejects(removeEtcdMember(etcd.endpoints.slice(0, 1), kw0, access), (e: unknown) => e instanceof EtcdQuorumRefusal && /the 0 member\(s\) left would need one healthy/.test(e.message) && /never removed/.test(e.hint ?? ''));
});

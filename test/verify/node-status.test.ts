// The pure parts of verify: expected node names per profile, version matching, kubectl-style rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Node } from '@kubernetes/client-node';
import { formatAge, kubeletVersionMatches, nodeRows } from '../../src/verify/node-status.ts';
import { nodeName } from '../../src/spec/node-name.ts';
import { parseCluster } from '../../src/spec/cluster.ts';

const spec = (profile: string): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: demo }
profile: ${profile}
kubernetes: { apiServer: "https://api.example.com:6443" }
provider: { static: { hosts: [{ name: Worker-0, address: 203.0.113.7 }] } }
`;

test('modern nodes are expected under their lowercased host name, seed nodes under their public IP', () => {
  const host = { name: 'Worker-0', address: '203.0.113.7', port: 22, user: 'root', publicAddress: '203.0.113.7' };
  assert.equal(nodeName(parseCluster(spec('modern')), host), 'worker-0');
  assert.equal(nodeName(parseCluster(spec('seed')), host), '203.0.113.7');
});

test('a minor-only version accepts any patch of that minor, a full version only itself', () => {
  assert.ok(kubeletVersionMatches('v1.36.4', { major: 1, minor: 36, patch: undefined }));
  assert.ok(!kubeletVersionMatches('v1.35.9', { major: 1, minor: 36, patch: undefined }));
  assert.ok(kubeletVersionMatches('v1.8.0', { major: 1, minor: 8, patch: 0 }));
  assert.ok(!kubeletVersionMatches('v1.8.1', { major: 1, minor: 8, patch: 0 }));
  assert.ok(!kubeletVersionMatches('', { major: 1, minor: 8, patch: 0 }));
  // a pre-release is its own release: the final 1.30.0 is not the rc.1 the spec pinned, nor the other way round
  assert.ok(kubeletVersionMatches('v1.30.0-rc.1', { major: 1, minor: 30, patch: 0, pre: 'rc.1' }));
  assert.ok(!kubeletVersionMatches('v1.30.0', { major: 1, minor: 30, patch: 0, pre: 'rc.1' }));
  assert.ok(!kubeletVersionMatches('v1.30.0-rc.1', { major: 1, minor: 30, patch: 0 }));
});

test('ages read like kubectl', () => {
  assert.deepEqual([5_000, 119_000, 600_000, 3 * 3_600_000, 72 * 3_600_000].map(formatAge), ['5s', '119s', '10m', '3h', '3d']);
});

test('rows say why a node fails: missing, not ready, or the wrong kubelet', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const node = (name: string, ready: string, version: string): V1Node => ({
    metadata: { name, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    status: { nodeInfo: { kubeletVersion: version } as never, conditions: [{ type: 'Ready', status: ready, message: 'kubelet is posting ready status', lastHeartbeatTime: new Date('2026-01-01T00:09:30Z') }] },
  });
  const rows = nodeRows(['a', 'b', 'c', 'd'], [node('a', 'True', 'v1.36.2'), node('b', 'Unknown', 'v1.36.2'), node('c', 'True', 'v1.35.0')], { major: 1, minor: 36, patch: 2 }, now);
  assert.deepEqual(rows.map((r) => [r.name, r.status, r.age, r.version]), [['a', 'Ready', '10m', 'v1.36.2'], ['b', 'NotReady', '10m', 'v1.36.2'], ['c', 'Ready', '10m', 'v1.35.0'], ['d', 'Missing', '-', '-']]);
  assert.equal(rows[0]?.problem, undefined);
  assert.equal(rows[1]?.problem, 'Ready=Unknown: kubelet is posting ready status (last heartbeat 30s ago)');
  assert.equal(rows[2]?.problem, 'kubelet v1.35.0, expected v1.36.2');
  assert.match(rows[3]?.problem ?? '', /not registered/);
});

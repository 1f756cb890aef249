// Which nodes verify expects and how each registered Node looks, as `kubectl get nodes` shows it.
import type { V1Node } from '@kubernetes/client-node';
import type { KubeVersion } from '../spec/version.ts';

export interface NodeRow {
  name: string;
  /** Ready, NotReady, or Missing (not registered) */
  status: 'Ready' | 'NotReady' | 'Missing';
  age: string;
  version: string;
  /** why this node fails verification; undefined when it passes */
  problem?: string | undefined;
}

/** `v1.36.2` for a full version (`v1.30.0-rc.1` for a pre-release); for a minor only, any `v1.36.*` matches. */
export function kubeletVersionMatches(actual: string, expected: KubeVersion): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-((?:alpha|beta|rc)\.\d+))?/.exec(actual);
  if (!m) return false;
  if (Number(m[1]) !== expected.major || Number(m[2]) !== expected.minor) return false;
  if (expected.patch === undefined) return true;
  return Number(m[3]) === expected.patch && (m[4] ?? '') === (expected.pre ?? '');
}

export function formatExpectedVersion(v: KubeVersion): string {
  return v.patch === undefined ? `v${v.major}.${v.minor}.x` : `v${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}`;
}

/** kubectl's age: 42s, 5m, 3h, 2d. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function nodeRows(expected: string[], nodes: V1Node[], version: KubeVersion, now: Date): NodeRow[] {
  return expected.map((name) => {
    const node = nodes.find((n) => n.metadata?.name === name);
    if (!node) return { name, status: 'Missing', age: '-', version: '-', problem: 'not registered with the API server (is its kubelet running, and is its client certificate accepted?)' };
    const created = node.metadata?.creationTimestamp ? new Date(node.metadata.creationTimestamp).getTime() : now.getTime();
    const kubelet = node.status?.nodeInfo?.kubeletVersion ?? '';
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const row: NodeRow = { name, status: ready?.status === 'True' ? 'Ready' : 'NotReady', age: formatAge(now.getTime() - created), version: kubelet || '<none>' };
    const problems: string[] = [];
    if (row.status !== 'Ready') {
      const beat = ready?.lastHeartbeatTime ? ` (last heartbeat ${formatAge(now.getTime() - new Date(ready.lastHeartbeatTime).getTime())} ago)` : '';
      problems.push(ready ? `Ready=${ready.status}: ${ready.message ?? ready.reason ?? 'no reason given'}${beat}` : 'no Ready condition reported yet');
    }
    if (!kubeletVersionMatches(kubelet, version)) problems.push(`kubelet ${kubelet || 'version unknown'}, expected ${formatExpectedVersion(version)}`);
    if (problems.length > 0) row.problem = problems.join('; ');
    return row;
  });
}

// The text `verify` prints: API health, `kubectl get nodes` columns, a reason per failing node, DNS, flannel.
import type { VerifyReport } from '../verify/verify-cluster.ts';
import type { ControlPlaneReport } from '../verify/control-plane-health.ts';
import { formatTable } from './table.ts';

// kubectl's spacing: three blanks between columns
const table = (rows: string[][]): string[] => formatTable(rows, { gap: 3 });

export function formatVerifyReport(r: VerifyReport): string[] {
  const lines: string[] = [];
  lines.push(`API ${r.api.server}: ${r.api.ok ? 'ready' : 'NOT READY'} — ${r.api.detail}`);
  if (r.api.componentStatuses) {
    lines.push(...table([['NAME', 'STATUS', 'MESSAGE'], ...r.api.componentStatuses.map((c) => [c.name, c.healthy ? 'Healthy' : 'Unhealthy', c.message])]));
  }
  lines.push('');
  lines.push(...table([['NAME', 'STATUS', 'AGE', 'VERSION'], ...r.nodes.map((n) => [n.name, n.status === 'Missing' ? '<missing>' : n.status, n.age, n.version])]));
  for (const n of r.nodes.filter((x) => x.problem)) lines.push(`  ${n.name}: ${n.problem}`);
  if (r.otherNodes.length > 0) lines.push(`  (also registered, not in the spec: ${r.otherNodes.join(', ')})`);
  lines.push('');
  lines.push(`DNS: ${r.dns.ok ? 'ok' : 'FAILED'} — ${r.dns.detail}`);
  lines.push(`flannel: ${!r.flannel.checked ? r.flannel.detail : `${r.flannel.ok ? 'ok' : 'FAILED'} — ${r.flannel.detail}`}`);
  if (r.controlPlane) lines.push('', ...formatControlPlane(r.controlPlane));
  lines.push('');
  lines.push(r.ok ? 'verify: ok' : `verify: FAILED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`);
  return lines;
}

/** etcd's members and each master's components as tables, then the endpoint's balancing line. */
function formatControlPlane(cp: ControlPlaneReport): string[] {
  const lines: string[] = [];
  if (!cp.etcd.checked) lines.push(`etcd: ${cp.etcd.detail}`);
  else {
    lines.push(`etcd: ${cp.etcd.ok ? 'ok' : 'FAILED'} — ${cp.etcd.detail}`);
    lines.push(...table([['MEMBER', 'ID', 'CLIENT URL', 'HEALTH', 'DETAIL'], ...cp.etcd.members.map((m) => [`${m.name}${m.inSpec ? '' : ' (not in spec)'}`, m.id, m.clientURL, m.healthy ? 'healthy' : 'UNHEALTHY', m.detail])]));
  }
  lines.push('');
  lines.push(...table([['MASTER', 'COMPONENT', 'HEALTH', 'DETAIL'], ...cp.components.map((c) => [c.host, c.component, c.healthy ? 'healthy' : 'UNHEALTHY', c.detail])]));
  lines.push(`endpoint ${cp.endpoint.server}: ${!cp.endpoint.checked ? cp.endpoint.detail : `${cp.endpoint.ok ? 'balanced' : 'NOT BALANCED'} — ${cp.endpoint.detail}`}`);
  return lines;
}

// The text `verify` prints: API health, `kubectl get nodes` columns, a reason per failing node, DNS, flannel.
import type { VerifyReport } from '../verify/verify-cluster.ts';
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
  lines.push('');
  lines.push(r.ok ? 'verify: ok' : `verify: FAILED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`);
  return lines;
}

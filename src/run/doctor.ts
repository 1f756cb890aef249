// `kubewright doctor`: the preflight checks alone, per host: connect, the one gather command,
// judge. Nothing is written and nothing is downloaded (disk needs are estimated). plan and apply
// run the same checks inside planFromFacts (phases/manager.ts).
import type { Executor } from '../exec/executor.ts';
import { gatherFacts } from '../phases/gather-facts.ts';
import { preflightChecks, type PreflightFinding, type PreflightRequirements } from '../phases/preflight.ts';
import type { Host } from '../spec/host.ts';
import type { HostTarget } from './run-hosts.ts';

export interface DoctorOutcome {
  host: string;
  /** every check, ok ones included; empty when the host could not be reached */
  findings: PreflightFinding[];
  /** why the checks could not run (connect, gather) */
  error?: unknown;
}

export async function doctorHosts(targets: readonly HostTarget[], requirements: PreflightRequirements, opts: { parallel: number; connect(h: Host): Promise<Executor> }): Promise<DoctorOutcome[]> {
  const out = new Array<DoctorOutcome>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      let x: Executor | undefined;
      try {
        x = await opts.connect(t.host);
        const facts = await gatherFacts(x, t.desired);
        const toInstall = t.desired.binaries.filter((b) => !facts.files.has(b.path)).map((b) => b.path);
        out[i] = { host: t.host.name, findings: preflightChecks({ facts, desired: t.desired, requirements, binariesToInstall: toInstall }) };
      } catch (e) {
        out[i] = { host: t.host.name, findings: [], error: e };
      } finally {
        await x?.close().catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, targets.length)) }, worker));
  return out;
}

/** doctor's text: one line per check and host, then what to fix first. */
export function doctorLines(outcomes: readonly DoctorOutcome[], describe: (e: unknown) => string): string[] {
  const lines: string[] = [];
  const label = { ok: 'ok', warning: 'warning', blocking: 'BLOCKING' } as const;
  const width = Math.max(...outcomes.flatMap((o) => o.findings.map((f) => f.check.length)), 0);
  for (const o of outcomes) {
    if (o.error !== undefined) {
      lines.push(`${o.host}: FAILED: ${describe(o.error)}`);
      continue;
    }
    for (const f of o.findings) lines.push(`${o.host}: ${label[f.severity].padEnd(8)} ${f.check.padEnd(width)}  ${f.message}${f.severity !== 'ok' && f.fix ? ` — fix: ${f.fix}` : ''}`);
  }
  const blocked = outcomes.filter((o) => o.error !== undefined || o.findings.some((f) => f.severity === 'blocking')).length;
  const warnings = outcomes.reduce((n, o) => n + o.findings.filter((f) => f.severity === 'warning').length, 0);
  lines.push(`doctor: ${outcomes.length} host(s): ${outcomes.length - blocked} ready, ${blocked} blocked; ${warnings} warning(s)`);
  return lines;
}

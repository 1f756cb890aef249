// What `plan` and `apply` show: per host the actions, unified diffs of files (secrets redacted
// as `<redacted sha256:…>`), units to (re)start and why, binaries to fetch, and a summary.
// Pure: builds lines and JSON; src/cli prints them.
import { createTwoFilesPatch } from 'diff';
import { isKubewrightError } from '../errors.ts';
import { certificateDiffLines, isCertificatePem } from '../pki/certificate-summary.ts';
import type { Action } from '../phases/phase.ts';
import type { HostOutcome } from './run-hosts.ts';

export function redacted(sha256: string | undefined): string {
  return sha256 ? `<redacted sha256:${sha256.slice(0, 12)}…>` : '<absent>';
}

/** `host`: the line already starts with that host's name, so the error does not repeat it. */
export function describeError(e: unknown, host?: string): string {
  if (isKubewrightError(e)) return e.describe(host);
  return e instanceof Error ? e.message : String(e);
}

/** The unified diff for a file action, or a redacted one-liner for secrets. */
export function fileDiff(a: Action, oldContents: ReadonlyMap<string, string>): string | undefined {
  const c = a.change;
  if (a.kind !== 'write-file' || !c) return undefined;
  if (c.secret) return `${c.path}: ${redacted(c.oldSha256)} → ${redacted(c.newSha256)}`;
  if (c.status === 'mode') return undefined;
  const before = c.status === 'create' ? '' : oldContents.get(c.path);
  if (before === undefined) return undefined;
  // a certificate is reviewed by its fields, not its base64
  if (isCertificatePem(c.contents) || isCertificatePem(before)) {
    const lines = certificateDiffLines(before || undefined, c.contents);
    if (lines.length > 0) return [`${c.status === 'create' ? '/dev/null' : `a${c.path}`} → b${c.path}`, ...lines].join('\n');
  }
  const patch = createTwoFilesPatch(c.status === 'create' ? '/dev/null' : `a${c.path}`, `b${c.path}`, before, c.contents ?? '', undefined, undefined, { context: 3 });
  // drop the `Index:`/`===` header lines createTwoFilesPatch adds
  return patch.split('\n').filter((l) => !/^(Index: |=+$)/.test(l)).join('\n').trimEnd();
}

export interface Summary {
  hosts: number;
  changed: number;
  unchanged: number;
  failed: number;
  /** disruptive hosts the rollout did not reach (an earlier host failed) */
  untouched: number;
  files: number;
  binaries: number;
  restarts: number;
  /** files and binaries removed because the spec no longer renders them */
  removals: number;
}

export function summarize(outcomes: readonly HostOutcome[]): Summary {
  const s: Summary = { hosts: outcomes.length, changed: 0, unchanged: 0, failed: 0, untouched: 0, files: 0, binaries: 0, restarts: 0, removals: 0 };
  for (const o of outcomes) {
    const actions = o.plan?.actions ?? [];
    if (o.status === 'failed') s.failed++;
    else if (o.status === 'untouched') s.untouched++;
    else if (actions.length === 0) s.unchanged++;
    else s.changed++;
    s.files += actions.filter((a) => a.kind === 'write-file').length;
    s.binaries += actions.filter((a) => a.kind === 'install-binary').length;
    s.restarts += actions.filter((a) => a.kind === 'start' || a.kind === 'restart').length;
    s.removals += actions.filter((a) => a.kind === 'remove' && a.change).length;
  }
  return s;
}

export function summaryLine(verb: 'Plan' | 'Apply', s: Summary): string {
  return `${verb}: ${s.hosts} host(s): ${s.changed} to change, ${s.unchanged} unchanged, ${s.failed} failed${s.untouched > 0 ? `, ${s.untouched} untouched` : ''}; ${s.files} file(s), ${s.binaries} binar${s.binaries === 1 ? 'y' : 'ies'} to install, ${s.restarts} unit (re)start(s)${s.removals > 0 ? `, ${s.removals} removal(s)` : ''}`;
}

const marks: Record<Action['kind'], string> = {
  'mkdir': '+',
  'remove-temp': '-',
  'install-binary': '↓',
  'chmod': '~',
  'write-file': '~',
  'daemon-reload': '⟳',
  'enable': '+',
  'start': '▶',
  'restart': '⟳',
  'wait-active': '…',
  'stop-disable': '■',
  'remove': '-',
  'record-manifest': '·',
};

/** The rollout's batches (hosts whose change restarts the kubelet or the runtime), from the outcomes runHosts numbered. */
export function rolloutOrder(outcomes: readonly HostOutcome[]): string[][] {
  const batches: string[][] = [];
  for (const o of outcomes) if (o.rollout) (batches[o.rollout.batch - 1] ??= []).push(o.host);
  return batches.filter(Boolean);
}

/** `plan`'s rollout section: the order in which apply takes disruptive hosts out, batch by batch. */
export function rolloutText(outcomes: readonly HostOutcome[], maxUnavailable: number, waitsForNodes: boolean): string[] {
  const batches = rolloutOrder(outcomes);
  if (batches.length === 0) return [];
  const hosts = batches.reduce((n, b) => n + b.length, 0);
  return [
    `rollout: ${hosts} host(s) restart the kubelet or the container runtime: apply changes them last, at most ${maxUnavailable} at a time (--max-unavailable), ${waitsForNodes ? 'each batch waited for until its Nodes are Ready with the new kubelet' : 'each batch waited for until its units are active (Kubernetes API not reachable: Nodes not waited for)'}; the other hosts first, --parallel at a time`,
    ...batches.map((b, i) => `rollout:   ${i + 1}. ${b.join(', ')}`),
  ];
}

/** Where a stopped rollout stands: the hosts done, failed, and not reached. */
export function rolloutProgress(outcomes: readonly HostOutcome[]): { done: string[]; failed: string[]; untouched: string[] } {
  const hosts = (...s: HostOutcome['status'][]): string[] => outcomes.filter((o) => s.includes(o.status)).map((o) => o.host);
  return { done: hosts('changed', 'unchanged'), failed: hosts('failed'), untouched: hosts('untouched') };
}

/** The preflight warnings of each host (a blocking finding fails the host and shows as its error). */
export function preflightWarningLines(outcomes: readonly HostOutcome[]): string[] {
  return outcomes.flatMap((o) =>
    (o.plan?.findings ?? []).filter((f) => f.severity === 'warning').map((f) => `${o.host}: warning: ${f.check}: ${f.message}${f.fix ? ` — fix: ${f.fix}` : ''}`),
  );
}

/** Human-readable plan: every line starts with the host name (STYLE.md). */
export function planText(outcomes: readonly HostOutcome[]): string[] {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.status === 'failed' || (o.status === 'untouched' && o.error !== undefined)) {
      lines.push(`${o.host}: ${o.status === 'failed' ? 'FAILED' : 'UNTOUCHED'}: ${describeError(o.error, o.host)}`);
      continue;
    }
    const actions = (o.plan?.actions ?? []).filter((a) => a.kind !== 'wait-active');
    if (actions.length === 0) {
      lines.push(`${o.host}: no changes`);
      continue;
    }
    const f = o.plan?.facts;
    lines.push(`${o.host}: ${actions.length} change(s)${f ? ` (${[f.os, f.arch].filter(Boolean).join(', ')})` : ''}`);
    for (const a of actions) {
      const mark = a.kind === 'write-file' && a.change?.status === 'create' ? '+' : marks[a.kind];
      lines.push(`${o.host}:   ${mark} ${a.summary}`);
      const d = fileDiff(a, o.oldContents);
      if (d) for (const l of d.split('\n')) lines.push(`${o.host}:       ${l}`);
    }
  }
  return lines;
}

export interface PlanJsonAction {
  phase: string;
  kind: Action['kind'];
  summary: string;
  reasons: string[];
  path?: string | undefined;
  unit?: string | undefined;
  url?: string | undefined;
  diff?: string | undefined;
}

export function planJson(outcomes: readonly HostOutcome[], notes: readonly string[] = []): unknown {
  return {
    hosts: outcomes.map((o) => ({
      host: o.host,
      status: o.status === 'failed' || o.status === 'untouched' ? o.status : (o.plan?.actions.length ?? 0) === 0 ? 'unchanged' : o.status,
      error: o.status === 'failed' || o.status === 'untouched' ? describeError(o.error) : undefined,
      /** hosts whose change restarts the kubelet or the runtime: their batch in the rollout */
      rollout: o.rollout,
      facts: o.plan ? { os: o.plan.facts.os, arch: o.plan.facts.arch, systemd: o.plan.facts.systemd, freeDiskKb: o.plan.facts.freeDiskKb } : undefined,
      /** preflight warnings (blocking findings fail the host: see error) */
      warnings: o.plan?.findings.filter((f) => f.severity === 'warning'),
      durationMs: o.durationMs,
      /** actions applied (apply); 0 for plan */
      applied: o.applied,
      actions: (o.plan?.actions ?? []).map(
        (a): PlanJsonAction => ({
          phase: a.phase,
          kind: a.kind,
          summary: a.summary,
          reasons: a.reasons,
          path: a.change?.path,
          unit: a.unit,
          url: a.binary?.url,
          diff: fileDiff(a, o.oldContents),
        }),
      ),
    })),
    summary: summarize(outcomes),
    /** hosts in the order apply takes them out, one inner list per batch */
    rollout: rolloutOrder(outcomes),
    notes,
  };
}

// What `plan` and `apply` show: per host the actions, unified diffs of files (secrets redacted
// as `<redacted sha256:…>`), units to (re)start and why, binaries to fetch, and a summary.
// Pure: builds lines and JSON; src/cli prints them.
import { createTwoFilesPatch } from 'diff';
import { isKubewrightError } from '../errors.ts';
import { certificateDiffLines, isCertificatePem } from '../pki/certificate-summary.ts';
import type { Action } from '../phases/phase.ts';
import type { HostOutcome } from './run-hosts.ts';
import type { HostFacts } from '../phases/host-facts.ts';
import type { PreflightFinding } from '../phases/preflight.ts';

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

/** Up to this many hosts, plan and apply show each host; beyond, hosts with the same plan are shown once and apply reports counts and every failure (-v: each host again). */
export const perHostLimit = 20;

/** At most `max` names, then how many more: a 1,000-host list stays one readable line. */
export function someNames(names: readonly string[], max = 10): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/** A group's label at the head of its lines: its first host, and how many more share it (`w1 (+996)`). */
function groupLabel(hosts: readonly string[]): string {
  return hosts.length > 1 ? `${hosts[0]} (+${hosts.length - 1})` : hosts[0] ?? '';
}

function failedLine(o: HostOutcome): string | undefined {
  if (o.status === 'failed' || (o.status === 'untouched' && o.error !== undefined)) return `${o.host}: ${o.status === 'failed' ? 'FAILED' : 'UNTOUCHED'}: ${describeError(o.error, o.host)}`;
  return undefined;
}

const shownActions = (o: HostOutcome): Action[] => (o.plan?.actions ?? []).filter((a) => a.kind !== 'wait-active');

function factsNote(o: HostOutcome): string {
  const f = o.plan?.facts;
  return f ? ` (${[f.os, f.arch].filter(Boolean).join(', ')})` : '';
}

/** One host's actions (and the diffs of its files), each line after `label`. */
function actionLines(o: HostOutcome, label: string): string[] {
  const lines: string[] = [];
  for (const a of shownActions(o)) {
    const mark = a.kind === 'write-file' && a.change?.status === 'create' ? '+' : marks[a.kind];
    lines.push(`${label}:   ${mark} ${a.summary}`);
    const d = fileDiff(a, o.oldContents);
    if (d) for (const l of d.split('\n')) lines.push(`${label}:       ${l}`);
  }
  return lines;
}

/** The rollout's batches (hosts whose change restarts the kubelet or the runtime), from the outcomes runHosts numbered. */
export function rolloutOrder(outcomes: readonly HostOutcome[]): string[][] {
  const batches: string[][] = [];
  for (const o of outcomes) if (o.rollout) (batches[o.rollout.batch - 1] ??= []).push(o.host);
  return batches.filter(Boolean);
}

/** `plan`'s rollout section: the order in which apply takes disruptive hosts out, batch by batch. */
export function rolloutText(outcomes: readonly HostOutcome[], maxUnavailable: number, waitsForNodes: boolean, maxBatches = Infinity): string[] {
  const batches = rolloutOrder(outcomes);
  if (batches.length === 0) return [];
  const hosts = batches.reduce((n, b) => n + b.length, 0);
  return [
    `rollout: ${hosts} host(s) restart the kubelet or the container runtime: apply changes them last, at most ${maxUnavailable} at a time (--max-unavailable), ${waitsForNodes ? 'each batch waited for until its Nodes are Ready with the new kubelet' : 'each batch waited for until its units are active (Kubernetes API not reachable: Nodes not waited for)'}; the other hosts first, --parallel at a time`,
    ...batches.slice(0, maxBatches).map((b, i) => `rollout:   ${i + 1}. ${someNames(b)}`),
    ...(batches.length > maxBatches ? [`rollout:   … and ${batches.length - maxBatches} more batch(es) in host order (plan -v or --output json lists them all)`] : []),
  ];
}

/** Where a stopped rollout stands: the hosts done, failed, and not reached. */
export function rolloutProgress(outcomes: readonly HostOutcome[]): { done: string[]; failed: string[]; untouched: string[] } {
  const hosts = (...s: HostOutcome['status'][]): string[] => outcomes.filter((o) => s.includes(o.status)).map((o) => o.host);
  return { done: hosts('changed', 'unchanged'), failed: hosts('failed'), untouched: hosts('untouched') };
}

/** The preflight warnings of each host (a blocking finding fails the host and shows as its error); `grouped`: one line per distinct warning, after the hosts that have it. */
export function preflightWarningLines(outcomes: readonly HostOutcome[], grouped = false): string[] {
  const lines = outcomes.flatMap((o) =>
    (o.plan?.findings ?? []).filter((f) => f.severity === 'warning').map((f) => ({ host: o.host, text: `warning: ${f.check}: ${f.message}${f.fix ? ` — fix: ${f.fix}` : ''}` })),
  );
  if (!grouped) return lines.map((l) => `${l.host}: ${l.text}`);
  const hosts = new Map<string, string[]>();
  for (const l of lines) (hosts.get(l.text) ?? hosts.set(l.text, []).get(l.text)!).push(l.host);
  return [...hosts].map(([text, names]) => `${groupLabel(names)}: ${text}${names.length > 1 ? ` (${names.length} hosts: ${someNames(names)})` : ''}`);
}

/** Hosts with the same actions: a head line after the first host (`w1 (+996)` when several), then its actions and diffs. */
function groupLines(members: readonly HostOutcome[]): string[] {
  const first = members[0]!;
  const names = members.map((m) => m.host);
  const label = groupLabel(names);
  const n = shownActions(first).length;
  const same = members.length > 1 ? `, the same on ${members.length} hosts: ${someNames(names)}${n > 0 ? ` (diffs shown are ${first.host}'s; plan -v shows each host)` : ''}` : '';
  return [n === 0 ? `${label}: no changes${same}` : `${label}: ${n} change(s)${factsNote(first)}${same}`, ...actionLines(first, label)];
}

/** Human-readable plan: every line starts with the host name (STYLE.md). */
export function planText(outcomes: readonly HostOutcome[]): string[] {
  return outcomes.flatMap((o) => {
    const failed = failedLine(o);
    return failed !== undefined ? [failed] : groupLines([o]);
  });
}

/**
 * The plan of many hosts: hosts whose actions read the same (kind and summary; diffs may differ,
 * e.g. a node's own name) are shown once, the largest group first, labelled after their first
 * host (`w1 (+996): …`), with that host's diffs; every failed host gets its own line.
 */
export function groupedPlanText(outcomes: readonly HostOutcome[]): string[] {
  const groups = new Map<string, HostOutcome[]>();
  const failed: string[] = [];
  for (const o of outcomes) {
    const line = failedLine(o);
    if (line !== undefined) failed.push(line);
    else {
      const key = shownActions(o).map((a) => `${a.kind} ${a.summary}`).join('\n');
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(o);
    }
  }
  return [...[...groups.values()].sort((a, b) => b.length - a.length).flatMap(groupLines), ...failed];
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

/** One host's result in `plan --output json` (`hosts[]`) and in apply's `result` events. */
export interface HostJson {
  host: string;
  status: HostOutcome['status'];
  error: string | undefined;
  /** hosts whose change restarts the kubelet or the runtime: their batch in the rollout */
  rollout: HostOutcome['rollout'];
  facts: Pick<HostFacts, 'os' | 'arch' | 'systemd' | 'freeDiskKb'> | undefined;
  /** preflight warnings (blocking findings fail the host: see error) */
  warnings: PreflightFinding[] | undefined;
  durationMs: number;
  /** actions applied (apply); 0 for plan */
  applied: number;
  actions: PlanJsonAction[];
}

export function hostJson(o: HostOutcome): HostJson {
  return {
    host: o.host,
    status: o.status === 'failed' || o.status === 'untouched' ? o.status : (o.plan?.actions.length ?? 0) === 0 ? 'unchanged' : o.status,
    error: o.status === 'failed' || o.status === 'untouched' ? describeError(o.error) : undefined,
    rollout: o.rollout,
    facts: o.plan ? { os: o.plan.facts.os, arch: o.plan.facts.arch, systemd: o.plan.facts.systemd, freeDiskKb: o.plan.facts.freeDiskKb } : undefined,
    warnings: o.plan?.findings.filter((f) => f.severity === 'warning'),
    durationMs: o.durationMs,
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
  };
}

export function planJson(outcomes: readonly HostOutcome[], notes: readonly string[] = []): unknown {
  return {
    hosts: outcomes.map(hostJson),
    summary: summarize(outcomes),
    /** hosts in the order apply takes them out, one inner list per batch */
    rollout: rolloutOrder(outcomes),
    notes,
  };
}

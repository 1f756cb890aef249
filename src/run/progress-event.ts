// The one progress event of `apply` and `up` (`--events ndjson` prints one per line; docs/events.md).
// apply's `--output json` prints the same events' `result` and `summary` ones: one line per host
// as it finishes, then the totals, so 1,000 hosts stream instead of one document at the end.
import { describeError, hostJson, rolloutOrder, summarize, summaryLine, type HostJson, type Summary } from './plan-report.ts';
import type { HostOutcome } from './run-hosts.ts';

export type ProgressStatus = 'running' | 'ok' | 'skipped' | 'failed';

export interface ProgressEvent {
  /** the cluster-wide step (`up` only): every `up` event carries it */
  step?: string;
  /** the host, on events about one host; absent on a step's own events */
  host?: string;
  /** the host's apply phase (`gather facts`, `files`, … `done`, then `result`), the step itself on a step's own events, or `summary` (apply's last event) */
  phase: string;
  status: ProgressStatus;
  message: string;
  /** milliseconds since the command started */
  ms: number;
  /** phase `result` (apply): the host's final result, once per host, as soon as it is final */
  result?: HostJson;
  /** phase `summary` (apply): the totals, the run's last event */
  summary?: RunSummary;
}

export interface RunSummary extends Summary {
  /** hosts in the order apply took them out, one inner list per batch */
  rollout: string[][];
  notes: string[];
}

/** A host's `result` event: ok (changed or unchanged), failed, or skipped (the rollout stopped before it). */
export function resultEvent(o: HostOutcome, ms: number): ProgressEvent {
  const result = hostJson(o);
  const status = o.status === 'failed' ? 'failed' : o.status === 'untouched' ? 'skipped' : 'ok';
  const message = status === 'ok' ? `${result.status}: ${o.applied} change(s) applied` : `${result.status}: ${(describeError(o.error).split('\n')[0] ?? '')}`;
  return { host: o.host, phase: 'result', status, message, ms, result };
}

/** The run's last event: the totals, failed when any host failed. */
export function summaryEvent(outcomes: readonly HostOutcome[], notes: readonly string[], ms: number): ProgressEvent {
  const s = summarize(outcomes);
  return { phase: 'summary', status: s.failed > 0 ? 'failed' : 'ok', message: summaryLine('Apply', s), ms, summary: { ...s, rollout: rolloutOrder(outcomes), notes: [...notes] } };
}

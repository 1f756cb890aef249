// The one progress event of `apply` and `up` (`--events ndjson` prints one per line; docs/events.md).

export type ProgressStatus = 'running' | 'ok' | 'skipped' | 'failed';

export interface ProgressEvent {
  /** the cluster-wide step (`up` only): every `up` event carries it */
  step?: string;
  /** the host, on events about one host; absent on a step's own events */
  host?: string;
  /** the host's apply phase (`gather facts`, `files`, … `done`), or the step itself on a step's own events */
  phase: string;
  status: ProgressStatus;
  message: string;
  /** milliseconds since the command started */
  ms: number;
}

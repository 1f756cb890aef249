// `--events ndjson` for commands that report progress (apply, up): one ProgressEvent
// (src/run/progress-event.ts, docs/events.md) per stdout line; commander rejects other formats.
import { Option } from 'commander';
import { InputError } from '../errors.ts';

export function eventsOption(fields: string): Option {
  return new Option('--events <format>', `ndjson: one JSON progress event per line on stdout (${fields}) instead of the progress display; the report goes to stderr`).choices(['ndjson']);
}

/** Both would own stdout: a stream of events and one JSON document cannot share it. */
export function eventsFlag(events: string | undefined, output: string): void {
  if (events !== undefined && output === 'json') {
    throw new InputError('--events ndjson and --output json both write stdout', { hint: 'pick one: the events stream, or the JSON result at the end' });
  }
}

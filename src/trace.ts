// `-v/--verbose`: one line per operation on the outside world (SSH command, DigitalOcean call,
// etcd operation) with where and how long. Library code reports here; only src/cli decides
// whether and where the lines are printed. Lines never hold secrets: callers pass method, path,
// command text and status, never tokens, keys or file contents.
type TraceSink = (line: string) => void;

let sink: TraceSink | undefined;

/** Set (or clear, with undefined) where trace lines go; the CLI sets it for -v. */
export function setTraceSink(s: TraceSink | undefined): void {
  sink = s;
}

export function trace(line: string): void {
  sink?.(line);
}

/** Runs `fn` and traces `what` with its duration and outcome (`ok`, or the error's first line). */
export async function traced<T>(what: () => string, fn: () => Promise<T>, outcome: (r: T) => string = () => 'ok'): Promise<T> {
  if (!sink) return fn();
  const t0 = performance.now();
  try {
    const r = await fn();
    trace(`${what()} → ${outcome(r)} (${Math.round(performance.now() - t0)} ms)`);
    return r;
  } catch (e) {
    trace(`${what()} → failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]} (${Math.round(performance.now() - t0)} ms)`);
    throw e;
  }
}

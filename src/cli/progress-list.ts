// listr2 rows on a terminal, driven from outside: the work runs in src/run and reports events;
// each row is a listr2 task that waits until its row is ended. apply draws one row per host
// (concurrent), up one row per step (in order).
import { Listr } from 'listr2';

export type RowEnd = 'ok' | 'skipped' | 'failed';

interface Row {
  title: string;
  message: string | undefined;
  show?: (message: string) => void;
  end: (how: { status: RowEnd; message: string }) => void;
  ended: Promise<{ status: RowEnd; message: string }>;
  done: boolean;
}

export class ProgressList {
  private readonly rows = new Map<string, Row>();
  private readonly drawing: Promise<void>;

  /** `titles`: the rows, in order; `concurrent`: all running at once (hosts) or one after another (steps). */
  constructor(titles: readonly string[], concurrent: boolean) {
    for (const title of titles) {
      let end!: Row['end'];
      const ended = new Promise<{ status: RowEnd; message: string }>((resolve) => (end = resolve));
      this.rows.set(title, { title, message: undefined, end, ended, done: false });
    }
    const list = new Listr(
      [...this.rows.values()].map((row) => ({
        title: row.title,
        task: async (_ctx: unknown, task: { output: string; title: string; skip(message?: string): void }) => {
          row.show = (m) => (task.output = m);
          if (row.message !== undefined) task.output = row.message;
          const { status, message } = await row.ended;
          if (status === 'failed') throw new Error(`${row.title}: ${message}`);
          if (status === 'skipped') task.skip(`${row.title}: ${message}`);
          else task.title = `${row.title}: ${message}`;
        },
      })),
      { concurrent, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    this.drawing = list.run().then(() => undefined, () => undefined);
  }

  /** The row's latest progress line (shown under it while it runs). */
  update(title: string, message: string): void {
    const row = this.rows.get(title);
    if (!row || row.done) return;
    row.message = message;
    row.show?.(message);
  }

  end(title: string, status: RowEnd, message: string): void {
    const row = this.rows.get(title);
    if (!row || row.done) return;
    row.done = true;
    row.end({ status, message });
  }

  /** Ends the rows nothing ended (steps after a failure) as skipped, and waits for the last frame. */
  async close(why = 'not run'): Promise<void> {
    for (const row of this.rows.values()) this.end(row.title, 'skipped', why);
    await this.drawing;
  }
}

/** Draw with listr2 only for a person at a terminal: not for pipes, files, CI or tests' captured output. */
export function onTerminal(isTTY: boolean | undefined): boolean {
  return isTTY === true && !process.env['CI'];
}

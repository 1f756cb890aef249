// Waits until a started unit is active (and still active a moment later, so a unit that crashes
// at once is caught); on failure the error carries its last journal lines.
import { KubewrightError } from '../errors.ts';
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';

export class UnitNotActiveError extends KubewrightError {
  readonly unit: string;
  readonly journal: string;
  constructor(host: string, unit: string, state: string, journal: string) {
    super(`${unit} is ${state || 'not active'} after start:\n${journal.trimEnd()}`, {
      host,
      hint: `see \`journalctl -u ${unit}\` on the host; fix the cause and re-run apply`,
    });
    this.unit = unit;
    this.journal = journal;
  }
}

/** One remote command: polls `systemctl is-active` (bounded), prints the journal on failure. */
export function waitActiveScript(unit: string, timeoutSec: number, settleSec = 0.5): string {
  const u = shellQuote(unit);
  const polls = Math.max(1, Math.ceil(timeoutSec * 4));
  return [
    `i=0; s=unknown`,
    `while [ $i -lt ${polls} ]; do`,
    `  s=$(systemctl is-active ${u} 2>/dev/null)`,
    settleSec > 0
      ? `  if [ "$s" = active ]; then sleep ${settleSec}; s=$(systemctl is-active ${u} 2>/dev/null); [ "$s" = active ] && exit 0; fi`
      : `  [ "$s" = active ] && exit 0`,
    `  [ "$s" = failed ] && break`,
    // a unit systemd skipped because a Condition*= is not met is done, not failed
    `  if [ "$s" = inactive ] && [ "$(systemctl show -p ConditionResult --value ${u} 2>/dev/null)" = no ]; then exit 0; fi`,
    `  sleep 0.25; i=$((i+1))`,
    `done`,
    `echo "@state $s"`,
    `journalctl -u ${u} -n 20 --no-pager 2>&1`,
    `exit 1`,
  ].join('\n');
}

export async function waitActive(x: Executor, unit: string, timeoutSec: number, settleSec?: number): Promise<void> {
  await runWaitScript(x, unit, timeoutSec, waitActiveScript(unit, timeoutSec, settleSec));
}

/**
 * `systemctl restart` and the wait in ONE command (one round trip per unit). A failed restart
 * shows up as a unit that is not active, with its journal.
 */
export async function restartAndWait(x: Executor, unit: string, timeoutSec: number, settleSec?: number): Promise<void> {
  const script = `systemctl restart ${shellQuote(unit)} >/dev/null 2>&1\n${waitActiveScript(unit, timeoutSec, settleSec)}`;
  await runWaitScript(x, unit, timeoutSec, script);
}

async function runWaitScript(x: Executor, unit: string, timeoutSec: number, script: string): Promise<void> {
  const r = await x.exec(script, { allowFailure: true, timeoutMs: (timeoutSec + 30) * 1000 });
  if (r.code === 0) return;
  const [first = '', ...rest] = r.stdout.split('\n');
  throw new UnitNotActiveError(x.host, unit, first.replace(/^@state /, ''), rest.join('\n'));
}

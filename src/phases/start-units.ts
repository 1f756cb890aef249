// Enables and (re)starts units in the rendered order (etcd-lookup → flanneld → runtime → kubelet;
// kube-proxy), only those whose files or binaries changed or that are not running, each waited
// for before the next starts.
import { KubewrightError } from '../errors.ts';
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import type { Action, Phase, PlanContext } from './phase.ts';
import { dropInUnit, unitName } from '../render/unit-file.ts';

// states in which `systemctl enable` has nothing to do
const enabledStates = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'linked']);

export const startUnits: Phase = {
  title: 'units',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const actions: Action[] = [];
    for (const u of ctx.desired.units) {
      const name = unitName(u.name);
      const fact = ctx.facts.units.get(name);
      if (!enabledStates.has(fact?.unitFileState ?? '')) {
        actions.push({
          host: ctx.host,
          phase: this.title,
          kind: 'enable',
          summary: `enable ${name} (${fact?.unitFileState || 'unknown to systemd'})`,
          reasons: [name],
          unit: name,
          apply: async (x) => {
            await x.exec(`systemctl enable ${shellQuote(name)}`);
          },
        });
      }
      // a drop-in the spec no longer renders (pruned) changes the unit as much as a new one does
      const droppedIns = [...ctx.changed.keys()].filter((p) => dropInUnit(p) === name && !u.dependsOn.includes(p));
      const changed = [...u.dependsOn.filter((p) => ctx.changed.has(p)), ...droppedIns];
      const active = fact?.activeState === 'active';
      if (active && changed.length === 0) continue;
      // systemd skipped it on purpose (a Condition*= failed); starting it again changes nothing
      if (!active && changed.length === 0 && fact?.conditionResult === 'no') continue;
      const reasons = changed.length > 0 ? changed.map((p) => `${p} ${ctx.changed.get(p)}`) : [`${fact?.activeState || 'not loaded'}`];
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: active ? 'restart' : 'start',
        summary: `${active ? 'restart' : 'start'} ${name} (${reasons.join('; ')})`,
        reasons,
        unit: name,
        // restart also starts an inactive/failed unit and resets one stuck in activating; the
        // next unit starts only once this one is active
        apply: (x) => restartAndWait(x, name, ctx.waitActiveTimeoutSec, ctx.waitActiveSettleSec),
      });
    }
    return actions;
  },
};

// Waiting: a started unit must be active (and still active a moment later, so a unit that crashes
// at once is caught); on failure the error carries its last journal lines.
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

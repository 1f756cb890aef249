// Enables and (re)starts units in the rendered order (etcd-lookup → flanneld → runtime → kubelet;
// kube-proxy), only those whose files or binaries changed or that are not running, each waited
// for before the next starts.
import { shellQuote } from '../exec/shell-quote.ts';
import type { Action, Phase, PlanContext } from './action.ts';
import { unitName } from './unit-name.ts';
import { restartAndWait } from './wait-active.ts';

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
      const changed = u.dependsOn.filter((p) => ctx.changed.has(p));
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

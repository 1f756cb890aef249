// `systemctl daemon-reload`, only when a unit file or drop-in changed.
import type { Action, Phase, PlanContext } from './phase.ts';
import { isUnitFile } from '../render/unit-file.ts';

export const daemonReload: Phase = {
  title: 'daemon-reload',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const changedUnits = [...ctx.changed.keys()].filter(isUnitFile);
    if (changedUnits.length === 0) return [];
    return [
      {
        host: ctx.host,
        phase: this.title,
        kind: 'daemon-reload',
        summary: `systemctl daemon-reload (${changedUnits.length} unit file(s) changed)`,
        reasons: changedUnits,
        apply: async (x) => {
          await x.exec('systemctl daemon-reload');
        },
      },
    ];
  },
};

// Creates the directories managed files live in, and removes temp files an interrupted write left.
import { shellQuote } from '../exec/shell-quote.ts';
import type { Action, Phase, PlanContext } from './phase.ts';

export const prepareDirectories: Phase = {
  title: 'prepare directories',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const actions: Action[] = [];
    const dirs = [...ctx.facts.missingDirs].sort();
    if (dirs.length > 0) {
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'mkdir',
        summary: `create ${dirs.join(', ')}`,
        reasons: dirs,
        apply: async (x) => {
          await x.exec(`mkdir -p -m 0755 -- ${dirs.map(shellQuote).join(' ')}`);
        },
      });
    }
    const temps = ctx.facts.tempFiles;
    if (temps.length > 0) {
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'remove-temp',
        summary: `remove ${temps.length} temp file(s) left by an interrupted write`,
        reasons: temps,
        apply: async (x) => {
          await x.exec(`rm -f -- ${temps.map(shellQuote).join(' ')}`);
        },
      });
    }
    return actions;
  },
};

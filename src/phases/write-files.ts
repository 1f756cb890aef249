// Writes rendered files whose sha256 or mode on the host differs; each write is atomic.
import { createHash } from 'node:crypto';
import type { Action, Phase, PlanContext } from './phase.ts';

const mode8 = (m: number): string => `0${m.toString(8)}`;

export function sha256Text(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export const writeFiles: Phase = {
  title: 'files',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const actions: Action[] = [];
    for (const f of ctx.desired.files) {
      const have = ctx.facts.files.get(f.path);
      const want = sha256Text(f.contents);
      if (have && have.sha256 === want && have.mode === f.mode) continue;
      const status = !have ? 'create' : have.sha256 !== want ? 'update' : 'mode';
      const why = status === 'create' ? 'created' : status === 'update' ? 'content changed' : `mode ${mode8(have!.mode)} → ${mode8(f.mode)}`;
      ctx.changed.set(f.path, why);
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'write-file',
        summary: `${status === 'create' ? 'create' : 'write'} ${f.path} (${why})`,
        reasons: [f.path],
        change: { path: f.path, status, mode: f.mode, oldMode: have?.mode, oldSha256: have?.sha256, newSha256: want, secret: f.secret === true, contents: f.contents },
        apply: async (x) => {
          await x.put({ path: f.path, mode: f.mode, contents: f.contents });
        },
      });
    }
    return actions;
  },
};

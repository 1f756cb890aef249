// Prune: what the manifest says kubewright installed but the spec no longer renders (a switched
// runtime, a removed drop-in) is taken away — its units stopped and disabled first, then its
// files and binaries removed, then the directories kubewright created for them if they are empty.
// Runs first, so that an old runtime is down before its successor starts. Without a manifest
// there is nothing kubewright knows it owns, and nothing is pruned.
import { shellQuote } from '../exec/shell-quote.ts';
import type { Action, Phase, PlanContext } from './phase.ts';
import { managedDirsWithAncestors, managedPaths } from './gather-facts.ts';
import { unitName } from '../render/unit-file.ts';

export const prune: Phase = {
  title: 'prune',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const m = ctx.facts.manifest;
    if (!m) return [];
    const actions: Action[] = [];
    const desiredUnits = new Set(ctx.desired.units.map((u) => unitName(u.name)));
    for (const name of m.units) {
      if (desiredUnits.has(name)) continue;
      const fact = ctx.facts.units.get(name);
      // systemd no longer knows it (already removed): nothing to stop
      if (!fact || fact.loadState === 'not-found' || (fact.unitFileState === '' && fact.activeState !== 'active')) continue;
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'stop-disable',
        summary: `stop and disable ${name} (no longer rendered; ${fact.activeState || 'unknown'}, ${fact.unitFileState || 'unknown'})`,
        reasons: [name],
        unit: name,
        apply: async (x) => {
          await x.exec(`systemctl disable --now -- ${shellQuote(name)}`);
        },
      });
    }
    const desiredPaths = new Set(managedPaths(ctx.desired));
    const stale = m.files.filter((f) => !desiredPaths.has(f.path) && ctx.facts.presentManifestPaths?.has(f.path));
    for (const f of stale) {
      ctx.changed.set(f.path, 'removed');
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'remove',
        summary: `remove ${f.path} (${f.kind}, no longer rendered)`,
        reasons: [f.path],
        change: { path: f.path, status: 'remove', mode: 0, oldSha256: f.sha256 },
        apply: async (x) => {
          await x.exec(`rm -f -- ${shellQuote(f.path)}`);
        },
      });
    }
    const keep = new Set(managedDirsWithAncestors(ctx.desired));
    // deepest first, so that a parent is empty by the time its turn comes
    const dirs = m.dirs.filter((d) => !keep.has(d)).sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
    if (stale.length > 0 && dirs.length > 0) {
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'remove',
        summary: `remove the directories kubewright created that are now unused, when empty: ${dirs.join(', ')}`,
        reasons: dirs,
        apply: async (x) => {
          // a directory that holds something else is not kubewright's to remove
          await x.exec(dirs.map((d) => `rmdir -- ${shellQuote(d)} 2>/dev/null`).join('; ') + '; true');
        },
      });
    }
    return actions;
  },
};

// Installs release binaries whose sha256 on the host differs from the verified artifact: fetched
// (and checksum-checked) locally, uploaded over SFTP, renamed into place. A failed checksum
// stops the host before its old binary is touched.
import { hasUnresolvedVersion } from '../render/release-binaries.ts';
import type { Action, Phase, PlanContext } from './phase.ts';
import { shellQuote } from '../exec/shell-quote.ts';

const mode8 = (m: number): string => `0${m.toString(8)}`;

export const installBinaries: Phase = {
  title: 'binaries',
  async plan(ctx: PlanContext): Promise<Action[]> {
    const actions: Action[] = [];
    for (const b of ctx.desired.binaries) {
      const have = ctx.facts.files.get(b.path);
      if (hasUnresolvedVersion(b)) {
        // plan offline: stable-<minor>.txt was unreachable, so which release (and digest) is unknown
        const why = 'version unresolved (offline)';
        ctx.changed.set(b.path, why);
        actions.push({
          host: ctx.host, phase: this.title, kind: 'install-binary', summary: `install ${b.path} from ${b.url} (${why})`, reasons: [b.path],
          change: { path: b.path, status: have ? 'update' : 'create', mode: b.mode, oldMode: have?.mode, oldSha256: have?.sha256 },
          binary: b,
          apply: async () => {
            throw new Error(`${b.url}: the Kubernetes version is unresolved; apply resolves it first`);
          },
        });
        continue;
      }
      const want = await ctx.installedDigest(b);
      if (have && want !== undefined && have.sha256 === want) {
        if (have.mode === b.mode) continue;
        ctx.changed.set(b.path, `mode ${mode8(have.mode)} → ${mode8(b.mode)}`);
        actions.push({
          host: ctx.host,
          phase: this.title,
          kind: 'chmod',
          summary: `chmod ${mode8(b.mode)} ${b.path} (was ${mode8(have.mode)})`,
          reasons: [b.path],
          change: { path: b.path, status: 'mode', mode: b.mode, oldMode: have.mode, oldSha256: have.sha256, newSha256: want },
          binary: b,
          apply: async (x) => {
            await x.exec(`chmod ${mode8(b.mode)} ${shellQuote(b.path)}`);
          },
        });
        continue;
      }
      const why = have ? (want === undefined ? (ctx.digestUnavailable?.(b) ?? 'may differ (archive not fetched yet)') : 'content changed') : 'missing';
      ctx.changed.set(b.path, why);
      actions.push({
        host: ctx.host,
        phase: this.title,
        kind: 'install-binary',
        summary: `install ${b.path} from ${b.url}${b.archiveMember ? ` (${b.archiveMember})` : ''} (${why})`,
        reasons: [b.path],
        change: { path: b.path, status: have ? 'update' : 'create', mode: b.mode, oldMode: have?.mode, oldSha256: have?.sha256, newSha256: want },
        binary: b,
        apply: async (x) => {
          const local = await ctx.localBinary(b);
          // an archive member fetched only now may turn out identical to the installed one
          if (have && have.sha256 === local.sha256 && have.mode === b.mode) return;
          await x.upload(local.localPath, b.path, b.mode);
        },
      });
    }
    return actions;
  },
};

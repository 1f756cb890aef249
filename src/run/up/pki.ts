// Step 2: the cluster CA and every certificate the hosts need (kept when still valid).
import { ensureClusterPki } from '../../pki/cluster-pki.ts';
import type { UpPhase } from './up-phase.ts';

export const pki: UpPhase = {
  name: 'pki',
  title: 'CA and certificates, issued when missing or no longer valid',
  plan: () => ({ run: 'CA and certificates' }),
  async run(ctx) {
    const pki = await ensureClusterPki(ctx.cluster, ctx.need('hosts'), { createCa: true });
    ctx.put('pki', pki);
    const issued = pki.decisions.filter((d) => d.action !== 'keep');
    const kept = pki.decisions.length - issued.length;
    ctx.result.pki = { issued, kept };
    return issued.length === 0 ? `all ${pki.decisions.length} certificates kept` : `${issued.length} issued (${issued.map((d) => d.name).join(', ')}), ${kept} kept`;
  },
};

// Step 6: the hosts that left the spec. Without prune they are only listed; with prune each is
// taken out one at a time — cordon, drain, reset, Node and lease deleted, droplet destroyed or
// static host forgotten (run/remove-nodes.ts) — after the DNS add-on and before verify.
import { providerFor } from '../../providers/provider-for.ts';
import { planRetiredHostRemoval, runRemoval } from '../remove-nodes.ts';
import type { UpPhase } from './up-phase.ts';

export const removeNodes: UpPhase = {
  name: 'remove',
  title: 'with --prune: drain and remove the hosts that left the spec',
  plan: (ctx) => {
    const kept = ctx.result.provision?.extras ?? [];
    if (ctx.opts.prune) return { run: 'hosts that left the spec: cordon, drain, reset, delete Node and lease, destroy or forget' };
    return { skip: kept.length === 0 ? 'no host left the spec' : `${kept.length} host(s) left the spec, kept: ${kept.join(', ')} (\`up --prune\` drains and removes them)` };
  },
  skipped(ctx) {
    ctx.result.removal = { hosts: ctx.result.provision?.extras ?? [], removed: false, steps: [], warnings: [] };
  },
  async run(ctx, say) {
    const { cluster, opts } = ctx;
    const etcd = ctx.need('etcd');
    const kubeConfig = ctx.need('kubeConfig');
    const provider = providerFor(cluster, { ...opts.provider, prune: false });
    const plan = await planRetiredHostRemoval(cluster, provider, {
      kubeConfig: async () => kubeConfig,
      etcd: etcd === undefined ? undefined : async () => etcd,
    }, {
      drainTimeoutMs: opts.drainTimeoutMs ?? 5 * 60_000,
      force: opts.drainForce,
      retryIntervalMs: opts.drainRetryIntervalMs,
      onDrainEvent: (e) => {
        if (e.kind !== 'cordoned') say(`${e.node}: ${e.message}`);
      },
    });
    try {
      for (const w of plan.warnings) say(`warning: ${w}`);
      if (plan.hosts.length === 0) {
        ctx.result.removal = { hosts: [], removed: true, steps: [], warnings: plan.warnings };
        return { skipped: 'no host left the spec' };
      }
      say(`${plan.hosts.length} host(s) left the spec: ${plan.hosts.join(', ')}; ${plan.steps.length} step(s)`);
      const steps = await runRemoval(plan, (s, line) => say(`${s.host}: ${line}`));
      ctx.result.removal = { hosts: plan.hosts, removed: true, steps, warnings: plan.warnings };
      if (ctx.result.provision) ctx.result.provision = { ...ctx.result.provision, extras: [], pruned: plan.hosts };
      return `removed ${plan.hosts.join(', ')} (${steps.length} step(s))`;
    } finally {
      await plan.close();
    }
  },
};

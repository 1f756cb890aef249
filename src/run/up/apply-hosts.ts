// Step 4: apply's host phases on every host (files, binaries, units), with the PKI and lookup
// token settled by the earlier steps.
import { KubewrightError } from '../../errors.ts';
import { adminKubeConfig } from '../../verify/kube-client.ts';
import { nodeCycleAfterProbe, refuseDrainWithoutApi } from '../node-ready.ts';
import { describeError, someNames } from '../plan-report.ts';
import { runHosts } from '../run-hosts.ts';
import { checkKubeletSkew } from '../version-skew.ts';
import { preparedRun } from './prepared-run.ts';
import type { UpPhase } from './up-phase.ts';

export const applyHosts: UpPhase = {
  name: 'apply',
  title: 'files, binaries and units on every host (apply)',
  plan: (ctx) => ({ run: `files, binaries and units on ${ctx.need('hosts').length} hosts` }),
  async run(ctx, say) {
    const { cluster, opts } = ctx;
    const prepared = await preparedRun(ctx);
    // as apply does: refuse a kubelet the API server's version does not allow, and roll a change that
    // restarts the kubelet or the runtime out host by host, waiting for each Node to come back
    const pki = ctx.need('pki');
    const api = await checkKubeletSkew(cluster, prepared.kubernetesVersion, async () => adminKubeConfig(cluster.kubernetes.apiServer, pki.credentials.caPem, pki.admin));
    if (api.note) say(api.note);
    // runUp asked the API before creating anything; this is for an API server gone since then
    if (opts.drainBeforeChange) refuseDrainWithoutApi(api);
    const drain = opts.drainBeforeChange ? { timeoutMs: opts.drainTimeoutMs ?? 5 * 60_000, force: opts.drainForce ?? false } : undefined;
    const nodeCycle = nodeCycleAfterProbe(cluster, api, prepared.kubernetesVersion, { timeoutMs: opts.nodeReadyTimeoutMs ?? 5 * 60_000, drain });
    const outcomes = await runHosts(prepared.targets, {
      mode: 'apply',
      parallel: opts.parallel ?? 10,
      maxUnavailable: opts.maxUnavailable ?? 1,
      nodeCycle,
      binaries: prepared.store,
      connect: prepared.connect,
      ...(opts.waitActiveTimeoutSec !== undefined ? { waitActiveTimeoutSec: opts.waitActiveTimeoutSec } : {}),
      ...(opts.onHostEvent ? { onEvent: opts.onHostEvent } : {}),
    });
    const byName = new Map(outcomes.map((o) => [o.host, o]));
    ctx.result.hosts = ctx.result.hosts.map((h) => {
      const o = byName.get(h.name);
      return o ? { ...h, status: o.status, actions: o.applied, error: o.status === 'failed' ? describeError(o.error) : undefined } : h;
    });
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length > 0) {
      throw new KubewrightError(`apply failed on ${failed.length} of ${outcomes.length} host(s): ${someNames(failed.map((o) => o.host))}`, {
        hint: 'fix the cause shown for each host and re-run `kubewright up`: finished steps and hosts are no-ops',
      });
    }
    const changed = outcomes.filter((o) => o.status === 'changed').length;
    return changed === 0 ? 'every host unchanged' : `${changed} host(s) changed, ${outcomes.length - changed} unchanged`;
  },
};

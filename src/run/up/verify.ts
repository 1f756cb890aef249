// Step 6: nodes Ready, DNS answering, flannel leases held; retried up to --wait.
import { VerifyError } from '../../errors.ts';
import { flannelLeaseMapper } from '../../etcd/flannel-leases.ts';
import { verifyCluster, verifyUntil } from '../../verify/verify-cluster.ts';
import type { UpPhase } from './up-phase.ts';
import { controlPlaneVerifyInputs } from '../control-plane-probe.ts';

export const verify: UpPhase = {
  name: 'verify',
  title: 'nodes Ready, DNS, flannel leases',
  plan: (ctx) => {
    if (ctx.opts.skipVerify) return { skip: '--skip-verify' };
    const wait = ctx.opts.verifyWaitMs;
    return { run: `nodes Ready, DNS, flannel leases${wait ? ` (waiting up to ${Math.round(wait / 1000)} s)` : ''}` };
  },
  async run(ctx) {
    const { cluster } = ctx;
    const etcd = ctx.need('etcd');
    const flannelLeases = etcd === undefined ? undefined : flannelLeaseMapper(cluster, etcd);
    // every host: verifyCluster expects Nodes of the workers only, and checks the masters and etcd members as such
    const hosts = ctx.need('hosts');
    const kubeConfig = ctx.need('kubeConfig');
    // with a controlPlane: etcd's members, each master's components, the endpoint's balancing
    const controlPlane = cluster.controlPlane ? await controlPlaneVerifyInputs(cluster, hosts, ctx.need('prepared').connect) : undefined;
    const report = await verifyUntil(() => verifyCluster({ cluster, hosts, kubeConfig, flannelLeases, controlPlane }), ctx.opts.verifyWaitMs ?? 0);
    ctx.result.verify = report;
    if (!report.ok) {
      throw new VerifyError(`verify: ${report.problems.length} check(s) failed: ${report.problems[0] ?? ''}${report.problems.length > 1 ? ' …' : ''}`, {
        hint: 'nodes need a moment after their first start: re-run `kubewright verify -f <spec> --wait 2m`',
      });
    }
    const cp = report.controlPlane;
    return `${report.nodes.length} nodes Ready, DNS ok${cp ? `, etcd ${cp.etcd.detail}, ${cp.components.length} control-plane components healthy` : ''}`;
  },
};

// Step 3 (with a controlPlane section): the etcd cluster on its member hosts, waiting for quorum
// (ensureEtcdCluster, src/run/etcd-cluster.ts). A stacked master's desired state is its etcd
// member and its API-server part together (control-plane.ts): apply prunes what a host's desired
// state does not list, so each part alone would take the other away; its API servers start here,
// after etcd, and the control-plane step waits for them.
import { ensureEtcdCluster } from '../etcd-cluster.ts';
import { etcdMemberHosts } from '../../spec/host.ts';
import { masterReady, masterTargets, noControlPlane, recordStatuses, withMaster } from './control-plane.ts';
import { preparedRun } from './prepared-run.ts';
import type { UpPhase } from './up-phase.ts';

export const etcdCluster: UpPhase = {
  name: 'etcd-cluster',
  title: 'the etcd cluster on its members (controlPlane section); waits for quorum',
  plan: (ctx) => {
    const cp = ctx.cluster.controlPlane;
    if (!cp) return { skip: noControlPlane };
    const members = cp.etcd.placement === 'stacked' ? `${cp.count} member(s) on the masters` : `${cp.etcd.count} member(s) on etcd's own hosts`;
    return { run: `${members}, peer and client TLS from etcd's CA` };
  },
  skipped(ctx) {
    ctx.put('etcdCluster', undefined);
  },
  async run(ctx, say) {
    const { cluster, opts } = ctx;
    const hosts = ctx.need('hosts');
    const prepared = await preparedRun(ctx);
    const masters = cluster.controlPlane?.etcd.placement === 'stacked' ? masterTargets(ctx, prepared).targets : undefined;
    say(`members: ${etcdMemberHosts(cluster, hosts).map((h) => h.name).join(', ')}`);
    const report = await ensureEtcdCluster(cluster, hosts, {
      connect: prepared.connect,
      binaries: prepared.store,
      compose: masters ? (h, etcd) => withMaster(etcd, masters.get(h.name)) : undefined,
      // a stacked master changed on a running cluster: its API server answers again before the next member's turn
      memberBack: masters ? masterReady(ctx) : undefined,
      waitActiveTimeoutSec: opts.waitActiveTimeoutSec,
      onEvent: opts.onHostEvent ? (e) => opts.onHostEvent?.(e, 'etcd-cluster') : undefined,
    });
    ctx.put('etcdCluster', report);
    ctx.result.etcdCluster = { mode: report.mode, added: report.added, members: report.members };
    recordStatuses(ctx, report.members);
    const changed = report.members.filter((m) => m.status === 'changed').length;
    const how = report.mode === 'bootstrap' ? 'formed' : report.mode === 'join' ? `grew by ${report.added.join(', ')}` : 'converged';
    return `${report.members.length} member(s) ${how}, quorum at ${report.connection.endpoints.join(', ')}; ${changed === 0 ? 'every member unchanged' : `${changed} changed`}`;
  },
};

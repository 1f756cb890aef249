// `reset` of some of the control plane's etcd members: each one that is reset while other members
// stay leaves the cluster first through MemberRemove (as kubeadm reset does), so the members left
// do not count a stopped member against their quorum. removeEtcdMember refuses a removal that would
// lose quorum. Resetting every member takes none out: the whole cluster goes.
import { listEtcdMembers, removeEtcdMember } from '../etcd/etcd-membership.ts';
import { etcdPeerUrl } from '../render/etcd-member.ts';
import type { Cluster } from '../spec/cluster.ts';
import { etcdMemberHosts, type Host } from '../spec/host.ts';
import { controlPlaneEtcdConnection } from './control-plane-probe.ts';

export interface EtcdLeaveStep {
  host: string;
  summary: string;
  run(): Promise<string>;
}

export async function planEtcdMemberRemoval(cluster: Cluster, all: readonly Host[], resetting: readonly Host[]): Promise<{ steps: EtcdLeaveStep[]; warnings: string[] }> {
  const members = etcdMemberHosts(cluster, all);
  const leaving = members.filter((m) => resetting.some((h) => h.name === m.name));
  if (leaving.length === 0 || leaving.length === members.length) return { steps: [], warnings: [] };
  const conn = await controlPlaneEtcdConnection(cluster, members.filter((m) => !leaving.includes(m)));
  const listed = conn ? await listEtcdMembers(conn.endpoints, { tls: conn.tls }) : undefined;
  if (!conn || !listed) {
    return { steps: [], warnings: [`etcd: no member answers${conn ? ` at ${conn.endpoints.join(', ')}` : ''}: ${leaving.map((h) => h.name).join(', ')} cannot leave etcd through the member API before their reset`] };
  }
  const steps = leaving.flatMap((h): EtcdLeaveStep[] => {
    const member = listed.find((m) => m.name === h.name || ((h.privateAddress ?? h.address) !== undefined && m.peerURLs.includes(etcdPeerUrl(h))));
    if (!member) return [];
    const peer = member.peerURLs[0] ?? '';
    return [{
      host: h.name,
      summary: `remove etcd member ${h.name} (${peer}) through the member API before its reset, if the rest keep a quorum`,
      run: async () => ((await removeEtcdMember(conn.endpoints, peer, { tls: conn.tls })).removed ? `etcd member ${h.name} removed` : `etcd member ${h.name} was already removed`),
    }];
  });
  return { steps, warnings: [] };
}

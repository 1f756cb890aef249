// What `plan` looks at on the control plane's hosts: each master's and etcd host's desired state
// (renderControlPlaneHosts, with the PKI's certificates, read and never issued) as a HostTarget
// beside the workers', and etcd's members (existing / to add) from the member API. A member that
// holds data keeps the bootstrap.env it started with (as ensureEtcdCluster does), so a converged
// cluster plans no change; a member still to add is shown with the bootstrap.env a first up writes.
import { listEtcdMembers } from '../etcd/etcd-membership.ts';
import { readClusterCredentials } from '../pki/cluster-pki.ts';
import { readEtcdMemberCredentials } from '../pki/etcd-member-pki.ts';
import { renderControlPlaneHosts } from '../render/control-plane/control-plane-hosts.ts';
import { etcdPaths, etcdPeerUrl } from '../render/etcd-member.ts';
import { controlPlaneBinariesFor, etcdBinariesFor } from '../render/release-binaries.ts';
import type { Cluster } from '../spec/cluster.ts';
import { controlPlaneHosts, etcdMemberHosts, type Host } from '../spec/host.ts';
import { controlPlaneEtcdConnection } from './control-plane-probe.ts';
import type { PreparedRun } from './prepare-run.ts';
import type { HostTarget } from './run-hosts.ts';

export interface ControlPlanePlanView {
  targets: HostTarget[];
  /** etcd's members by host name: in the running cluster, or to be added (all of them when no cluster answers) */
  etcd?: { existing: string[]; toAdd: string[]; running: boolean } | undefined;
  notes: string[];
}

export async function planControlPlaneHosts(cluster: Cluster, hosts: readonly Host[], run: Pick<PreparedRun, 'connect' | 'kubernetesVersion'>): Promise<ControlPlanePlanView> {
  if (!cluster.controlPlane) return { targets: [], notes: [] };
  const pki = await readClusterCredentials(cluster, hosts);
  const members = etcdMemberHosts(cluster, hosts);
  const etcdTls = pki ? await readEtcdMemberCredentials(cluster, members) : undefined;
  const rendered = renderControlPlaneHosts({ cluster, hosts, credentials: pki?.controlPlane, etcd: etcdTls, kubernetesVersion: run.kubernetesVersion });
  if (rendered.skipped) return { targets: [], notes: [`control plane: not planned: ${rendered.skipped}`] };
  const conn = await controlPlaneEtcdConnection(cluster, members);
  const listed = conn ? await listEtcdMembers(conn.endpoints, { tls: conn.tls }) : undefined;
  const isMember = (h: Host): boolean => listed?.some((m) => m.name === h.name || m.peerURLs.includes(etcdPeerUrl(h))) ?? false;
  const masters = new Set(controlPlaneHosts(hosts).map((h) => h.name));
  const memberNames = new Set(members.map((h) => h.name));
  const targets = await Promise.all([...rendered.hosts.values()].map(async (desired): Promise<HostTarget> => {
    const host = hosts.find((h) => h.name === desired.name)!;
    let files = desired.files;
    if (memberNames.has(host.name) && isMember(host)) {
      // a running member keeps its bootstrap.env: etcd read it once, at its first start
      const x = await run.connect(host);
      try {
        const kept = await x.read(etcdPaths.bootstrapEnv);
        if (kept !== undefined) files = files.map((f) => (f.path === etcdPaths.bootstrapEnv ? { ...f, contents: kept.toString('utf8') } : f));
      } finally {
        await x.close().catch(() => undefined);
      }
    }
    return {
      host,
      desired: { ...desired, files },
      binariesFor: (arch) => [
        ...(memberNames.has(host.name) ? etcdBinariesFor(cluster, arch) : []),
        ...(masters.has(host.name) ? controlPlaneBinariesFor(cluster, { arch, kubernetesVersion: run.kubernetesVersion, unresolved: 'throw' }) : []),
      ],
    };
  }));
  const existing = members.filter(isMember).map((h) => h.name);
  return {
    targets,
    etcd: { existing, toAdd: members.filter((h) => !isMember(h)).map((h) => h.name), running: listed !== undefined },
    notes: pki ? [] : ['control plane: no PKI yet: certificate files are not planned (`up` issues them first)'],
  };
}

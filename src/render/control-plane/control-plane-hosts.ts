// What `render` and `plan` show for a spec's control plane: each master's and each etcd host's
// desired state, a stacked master's two parts joined as `up` applies them (composeHost), and the
// cluster-wide RBAC manifest. Pure, like renderCluster. The etcd members are rendered as a first
// `up` would start them (every member `new`); a running cluster's members keep the bootstrap.env
// they started with (src/run/etcd-cluster.ts), which `plan` reads from the host.
import type { Cluster } from '../../spec/cluster.ts';
import type { ControlPlaneCredentials, TlsCredential } from '../../spec/credentials.ts';
import { controlPlaneHosts, etcdMemberHosts, type Host } from '../../spec/host.ts';
import { bootstrapCluster, renderEtcdMember } from '../etcd-member.ts';
import type { RenderedFile, RenderedHost } from '../types.ts';
import { composeHost } from './compose-host.ts';
import { controlPlaneRenderInput } from './input.ts';
import { renderControlPlane } from './render-control-plane.ts';

export interface ControlPlaneHostsInput {
  cluster: Cluster;
  hosts: readonly Host[];
  credentials?: ControlPlaneCredentials | undefined;
  /** etcd's CA and the members' peer/server pairs found in the PKI (a member left out: paths only) */
  etcd?: { etcdCaPem: string; members: Record<string, { peer: TlsCredential; server: TlsCredential }> } | undefined;
  kubernetesVersion?: string | undefined;
}

export interface RenderedControlPlane {
  /** by host name, masters first (in spec order), then etcd's own hosts */
  hosts: Map<string, RenderedHost>;
  cluster: RenderedFile[];
  /** why nothing was rendered (no controlPlane section, or hosts without an address yet) */
  skipped?: string | undefined;
}

export function renderControlPlaneHosts(input: ControlPlaneHostsInput): RenderedControlPlane {
  const { cluster, hosts } = input;
  if (!cluster.controlPlane) return { hosts: new Map(), cluster: [], skipped: 'no controlPlane section' };
  const masters = controlPlaneHosts(hosts);
  const members = etcdMemberHosts(cluster, hosts);
  // etcd's initial cluster and kube-apiserver's --etcd-servers are built from the hosts' addresses
  const unaddressed = [...masters, ...members].filter((h) => (h.privateAddress ?? h.address) === undefined).map((h) => h.name);
  if (unaddressed.length > 0) return { hosts: new Map(), cluster: [], skipped: `${[...new Set(unaddressed)].join(', ')} have no address until provisioned` };
  const initialCluster = bootstrapCluster(members);
  const etcdParts = new Map(members.map((m) => {
    const pair = input.etcd?.members[m.name];
    const tls = pair && input.etcd ? { caPem: input.etcd.etcdCaPem, ...pair } : undefined;
    return [m.name, renderEtcdMember({ cluster, member: m, initialCluster, state: 'new', tls })];
  }));
  const rendered = renderControlPlane(controlPlaneRenderInput(cluster, hosts, { credentials: input.credentials, kubernetesVersion: input.kubernetesVersion }));
  const out = new Map<string, RenderedHost>();
  for (const m of masters) {
    const master = rendered.hosts.get(m.name)!;
    const etcd = etcdParts.get(m.name);
    // etcd's units first, as up applies a stacked master: kube-apiserver needs its store
    out.set(m.name, etcd ? composeHost(etcd, master) : master);
  }
  for (const [name, part] of etcdParts) if (!out.has(name)) out.set(name, part);
  return { hosts: out, cluster: rendered.cluster };
}

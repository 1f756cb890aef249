// ensureEtcdCluster: the etcd cluster on its member hosts (the control-plane hosts when stacked,
// else etcd's own), as `up` runs it after the PKI and before the API servers (journey step 3).
//
//   - no member answers and none has data: bootstrap — every member with
//     ETCD_INITIAL_CLUSTER_STATE=new, started together, then wait for quorum;
//   - members with data but none answering (the whole cluster was stopped): start those only;
//   - a running cluster: a host that is not a member yet is announced through MemberAdd and then
//     started with ETCD_INITIAL_CLUSTER_STATE=existing, one at a time, each waited for — a running
//     cluster is never re-bootstrapped;
//   - every member already there: the apply phases find nothing changed, so nothing restarts; a
//     change that restarts running members goes one member at a time, each back in the quorum
//     (and, with `memberBack`, whatever else it serves) before the next: the cluster keeps a majority.
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import { addEtcdMember, listEtcdMembers, waitForEtcdQuorum, type EtcdClusterAccess, type EtcdMember } from '../etcd/etcd-membership.ts';
import { openEtcdStore, type EtcdConnection } from '../etcd/etcd-store.ts';
import { writeFlannelNetworkConfig, type NetworkConfigResult } from '../etcd/flannel-network-config.ts';
import type { BinarySource } from '../phases/manager.ts';
import { ensureEtcdClusterPki, type EtcdClusterCredentials, type EtcdPkiOptions } from '../pki/etcd-member-pki.ts';
import { bootstrapCluster, etcdClientUrl, etcdPaths, etcdPeerUrl, renderEtcdMember, type InitialClusterEntry } from '../render/etcd-member.ts';
import { etcdBinariesFor } from '../render/release-binaries.ts';
import { unitName } from '../render/unit-file.ts';
import { InputError, KubewrightError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import { etcdMemberHosts, type Host } from '../spec/host.ts';
import { runHosts, type HostEvent, type HostOutcome, type HostTarget, type RunOptions } from './run-hosts.ts';

export interface EnsureEtcdOptions {
  connect(h: Host): Promise<Executor>;
  /** where etcd's binaries come from (the run's ArtifactStore) */
  binaries: BinarySource;
  pki?: EtcdPkiOptions | undefined;
  /**
   * what the member host is given to apply: by default etcd's part alone (files, units and
   * binaries). A stacked master also runs the API server: the caller merges both parts here, since
   * the apply phases prune what a host's desired state no longer lists.
   */
  compose?: ((host: Host, etcd: HostTarget) => HostTarget) | undefined;
  quorumDeadlineMs?: number | undefined;
  /**
   * after a running member's change restarted it (converge: members change one at a time) and it
   * is back in the quorum: e.g. wait for a stacked master's API server too, before the next member
   */
  memberBack?: ((host: Host) => Promise<void>) | undefined;
  waitActiveTimeoutSec?: number | undefined;
  onEvent?: ((e: HostEvent) => void) | undefined;
}

export interface EtcdClusterReport {
  /** bootstrap: a new cluster was formed; join: members were added; converge: members were there already */
  mode: 'bootstrap' | 'join' | 'converge';
  /** host names added through MemberAdd, in order */
  added: string[];
  /** per member host: what applying its etcd part did */
  members: { name: string; status: HostOutcome['status'] }[];
  /** the members' client URLs and kubewright's client TLS: for the flannel network config (journey step 5) and verify */
  connection: EtcdConnection;
  credentials: EtcdClusterCredentials;
}

export class EtcdMemberApplyError extends KubewrightError {
  constructor(host: string, cause: unknown) {
    super(`etcd member ${host}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      host,
      hint: 'see `journalctl -u etcd` on the host; fix the cause and run again (members already running are left alone)',
    });
  }
}

interface MemberState { host: Host; hasData: boolean; bootstrapEnv: string | undefined }

/** One command per host: is there a data dir, and what bootstrap.env does it hold now. */
async function gatherMember(h: Host, connect: (h: Host) => Promise<Executor>): Promise<MemberState> {
  const x = await connect(h);
  try {
    const r = await x.exec(`if [ -d ${shellQuote(`${etcdPaths.dataDir}/member`)} ]; then echo data; else echo empty; fi; cat ${shellQuote(etcdPaths.bootstrapEnv)} 2>/dev/null || true`);
    const [first, ...rest] = r.stdout.split('\n');
    const env = rest.join('\n');
    return { host: h, hasData: first === 'data', bootstrapEnv: env.trim() === '' ? undefined : env };
  } finally {
    await x.close().catch(() => undefined);
  }
}

export async function ensureEtcdCluster(cluster: Cluster, hosts: readonly Host[], opts: EnsureEtcdOptions): Promise<EtcdClusterReport> {
  const members = etcdMemberHosts(cluster, hosts);
  if (members.length === 0) throw new InputError('etcd: the spec names no etcd member hosts', { hint: 'add a controlPlane section (etcd runs on the control-plane hosts unless controlPlane.etcd is set)' });
  const unaddressed = members.filter((m) => (m.privateAddress ?? m.address) === undefined);
  if (unaddressed.length > 0) throw new InputError(`etcd: ${unaddressed.map((m) => m.name).join(', ')} have no address yet`, { hint: 'provision the hosts first (`kubewright provision` or `up`)' });
  const { credentials } = await ensureEtcdClusterPki(cluster, members, opts.pki);
  const access: EtcdClusterAccess = { tls: { caPem: credentials.etcdCaPem, certPem: credentials.client.certPem, keyPem: credentials.client.keyPem } };
  const endpoints = members.map(etcdClientUrl);
  const connection: EtcdConnection = { endpoints, tls: access.tls };
  const outcomes = new Map<string, HostOutcome['status']>();

  const part = (m: MemberState, initialCluster: readonly InitialClusterEntry[], state: 'new' | 'existing'): HostTarget => {
    const rendered = renderEtcdMember({ cluster, member: m.host, initialCluster, state, tls: { caPem: credentials.etcdCaPem, ...credentials.members[m.host.name]! } });
    // a member that has data keeps the bootstrap.env it started with: etcd no longer reads it, and rewriting it would be a change on every run
    const kept = m.hasData && m.bootstrapEnv !== undefined
      ? { ...rendered, files: rendered.files.map((f) => (f.path === etcdPaths.bootstrapEnv ? { ...f, contents: m.bootstrapEnv! } : f)) }
      : rendered;
    const target: HostTarget = { host: m.host, desired: kept, binariesFor: (arch) => etcdBinariesFor(cluster, arch) };
    return opts.compose ? opts.compose(m.host, target) : target;
  };
  const quorum = (urls: string[]): Promise<string[]> => waitForEtcdQuorum(urls, { ...access, deadlineMs: opts.quorumDeadlineMs });
  // running members whose change restarts a unit of theirs go one at a time, each back in the quorum before the next
  const rolling = (targets: readonly HostTarget[]): Pick<RunOptions, 'maxUnavailable' | 'disruptiveUnits' | 'nodeCycle'> => ({
    maxUnavailable: 1,
    disruptiveUnits: new Set(targets.flatMap((t) => t.desired.units.map((u) => unitName(u.name)))),
    nodeCycle: {
      waitingFor: 'the member to be back in the quorum',
      takeOut: async (h) => async () => {
        await quorum([etcdClientUrl(h)]);
        await opts.memberBack?.(h);
      },
    },
  });
  const apply = async (targets: HostTarget[], roll = false): Promise<void> => {
    // members of a new cluster wait for each other (Type=notify is ready at quorum): all at once
    const results = await runHosts(targets, {
      mode: 'apply', parallel: targets.length, connect: opts.connect, binaries: opts.binaries, waitActiveTimeoutSec: opts.waitActiveTimeoutSec ?? 90,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}), ...(roll ? rolling(targets) : {}),
    });
    for (const r of results) outcomes.set(r.host, r.status);
    const failed = results.find((r) => r.status === 'failed');
    if (failed) throw new EtcdMemberApplyError(failed.host, failed.error);
  };

  const states = await Promise.all(members.map((m) => gatherMember(m, opts.connect)));
  let listed = await listEtcdMembers(endpoints, access);
  let mode: EtcdClusterReport['mode'] = 'converge';
  if (!listed) {
    const withData = states.filter((s) => s.hasData);
    if (withData.length === 0) {
      mode = 'bootstrap';
      const initial = bootstrapCluster(members);
      await apply(states.map((s) => part(s, initial, 'new')));
      await quorum(endpoints);
      listed = await listEtcdMembers(endpoints, access);
    } else {
      // the cluster was stopped: its members start from their data; hosts without data join afterwards
      await apply(withData.map((s) => part(s, bootstrapCluster(withData.map((w) => w.host)), 'existing')));
      await quorum(withData.map((s) => etcdClientUrl(s.host)));
      listed = await listEtcdMembers(endpoints, access);
    }
    if (!listed) throw new EtcdMemberApplyError(members[0]!.name, new Error('no member answers the member list after start'));
  }

  const added: string[] = [];
  const isMember = (l: EtcdMember[], h: Host): boolean => l.some((m) => m.peerURLs.includes(etcdPeerUrl(h)));
  // members already in the list converge (a no-op when nothing changed); the rest join one by one
  const present = states.filter((s) => isMember(listed!, s.host) && !outcomes.has(s.host.name));
  if (present.length > 0) {
    await apply(present.map((s) => part(s, initialFromList(listed!, members), 'existing')), true);
    // a member started again (not a restart: it was stopped) must be back before the next step leans on it
    const restarted = present.filter((s) => outcomes.get(s.host.name) === 'changed');
    if (restarted.length > 0) await quorum(restarted.map((s) => etcdClientUrl(s.host)));
  }
  for (const s of states.filter((x) => !isMember(listed!, x.host))) {
    if (s.hasData) {
      throw new InputError(`etcd member ${s.host.name}: ${etcdPaths.dataDir} holds data, but the running cluster does not list ${etcdPeerUrl(s.host)}`, {
        hint: `it was removed from (or belongs to) another cluster: on ${s.host.name}, stop etcd and move ${etcdPaths.dataDir} away, then run again to add it through the member API`,
      });
    }
    const running: string[] = listed.flatMap((m) => m.clientURLs);
    const via = running.length > 0 ? running : endpoints;
    await addEtcdMember(via, etcdPeerUrl(s.host), { ...access, deadlineMs: opts.quorumDeadlineMs });
    listed = (await listEtcdMembers(via, access)) ?? listed;
    await apply([part(s, initialFromList(listed, members), 'existing')]);
    added.push(s.host.name);
    if (mode === 'converge') mode = 'join';
    // a linearizable read through the new member succeeds once it has joined a cluster with quorum
    await quorum([etcdClientUrl(s.host)]);
  }
  return { mode, added, members: members.map((m) => ({ name: m.name, status: outcomes.get(m.name) ?? 'unchanged' })), connection, credentials };
}

/** ETCD_INITIAL_CLUSTER for a member joining: every listed member by name (a just-added one has none yet: its host's name). */
function initialFromList(listed: readonly EtcdMember[], hosts: readonly Host[]): InitialClusterEntry[] {
  return listed.flatMap((m) => m.peerURLs.map((peerUrl) => ({ name: m.name || (hosts.find((h) => etcdPeerUrl(h) === peerUrl)?.name ?? ''), peerUrl })));
}

/**
 * Journey step 5: flannel's network config (<etcd.prefix>/config) in the cluster ensureEtcdCluster
 * made, through the API flannel speaks (v2 or v3), with kubewright's client certificate. Created
 * once, unchanged on a re-run; a change with leases present is refused as `etcd network-config` does.
 */
export async function ensureFlannelNetworkInEtcd(cluster: Cluster, etcd: Pick<EtcdClusterReport, 'connection'>): Promise<NetworkConfigResult> {
  const store = openEtcdStore(cluster.etcd.api, etcd.connection);
  try {
    return await writeFlannelNetworkConfig(store, cluster);
  } finally {
    store.close();
  }
}

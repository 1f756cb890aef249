// An etcd cluster's membership as kubewright changes it: read through the member API, grown one
// member at a time through MemberAdd (never by re-bootstrapping), and waited on until a majority
// answers linearizable reads and every expected member serves its client URL.
import type { IMember } from 'etcd3';
import { KubewrightError } from '../errors.ts';
import { EtcdV3Store } from './etcd-v3-store.ts';
import type { EtcdTls } from './etcd-tls.ts';

export interface EtcdMember {
  id: string;
  /** empty while an added member has not started yet */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface EtcdClusterAccess {
  tls: EtcdTls;
  timeoutMs?: number | undefined;
}

const toMember = (m: IMember): EtcdMember => ({ id: m.ID, name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...(m.clientURLs ?? [])] });

async function withStore<T>(endpoints: string[], access: EtcdClusterAccess, fn: (s: EtcdV3Store) => Promise<T>): Promise<T> {
  const store = new EtcdV3Store({ endpoints, tls: access.tls, timeoutMs: access.timeoutMs ?? 3000 });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** The member list through any of `endpoints`; undefined when none answers (no cluster there yet). */
export async function listEtcdMembers(endpoints: string[], access: EtcdClusterAccess): Promise<EtcdMember[] | undefined> {
  for (const e of endpoints) {
    try {
      return await withStore([e], access, async (s) => (await s.memberList()).map(toMember));
    } catch {
      // next endpoint: this member is down or not started
    }
  }
  return undefined;
}

/** MemberAdd through a running member: the cluster then expects a member at `peerUrl` (retried while etcd calls the cluster unhealthy, until `deadlineMs`). */
export function addEtcdMember(endpoints: string[], peerUrl: string, access: EtcdClusterAccess & { deadlineMs?: number | undefined }): Promise<EtcdMember> {
  return whileUnhealthy(access.deadlineMs, () => withStore(endpoints, access, async (s) => toMember(await s.memberAdd([peerUrl]))));
}

/**
 * A membership change, retried while etcd answers "unhealthy cluster": its strict reconfiguration
 * check refuses a change while a member has been connected for less than its health interval (5 s).
 */
async function whileUnhealthy<T>(deadlineMs: number | undefined, change: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (deadlineMs ?? 60_000);
  for (;;) {
    try {
      return await change();
    } catch (e) {
      if (!/unhealthy cluster/.test(e instanceof Error ? e.message : String(e)) || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export class EtcdQuorumTimeoutError extends KubewrightError {
  constructor(waitedMs: number, missing: string[], last: string) {
    super(`etcd: no quorum with every member after ${Math.round(waitedMs / 1000)} s (not answering: ${missing.join(', ') || 'none'}; last error: ${last})`, {
      hint: 'see `journalctl -u etcd` on the members: a wrong peer certificate, a closed port 2380 or a stale /var/lib/etcd from another cluster keep a member out',
    });
  }
}

export interface QuorumOptions extends EtcdClusterAccess {
  /** give up after this long (default 120 s) */
  deadlineMs?: number | undefined;
  intervalMs?: number | undefined;
  /** require only a majority (default: every endpoint answers) */
  majorityOnly?: boolean | undefined;
}

/**
 * Waits until the cluster answers a linearizable read (which needs a leader and a majority) and
 * each client URL answers one itself (or, with majorityOnly, a majority of them do). Returns the
 * endpoints that answered.
 */
export async function waitForEtcdQuorum(endpoints: string[], opts: QuorumOptions): Promise<string[]> {
  const started = Date.now();
  const deadline = started + (opts.deadlineMs ?? 120_000);
  const need = opts.majorityOnly ? Math.floor(endpoints.length / 2) + 1 : endpoints.length;
  let last = 'not asked yet';
  let missing = endpoints;
  for (;;) {
    const answers = await Promise.all(endpoints.map(async (e) => {
      try {
        await withStore([e], opts, (s) => s.get('/kubewright/quorum-probe'));
        return e;
      } catch (err) {
        last = `${e}: ${err instanceof Error ? err.message : String(err)}`;
        return undefined;
      }
    }));
    const ok = answers.filter((a): a is string => a !== undefined);
    missing = endpoints.filter((e) => !ok.includes(e));
    if (ok.length >= need) return ok;
    if (Date.now() >= deadline) throw new EtcdQuorumTimeoutError(Date.now() - started, missing, last);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}

/** One member as verify sees it: does its own client URL answer a linearizable read (it has a leader and a majority behind it)? */
export interface EtcdMemberHealth {
  id: string;
  /** empty for a member that was added and never started */
  name: string;
  peerURLs: string[];
  clientURL: string | undefined;
  healthy: boolean;
  detail: string;
}

/** A linearizable read through one client URL: answers only when that member is up and the cluster has a leader and a majority. */
async function readThrough(endpoint: string, access: EtcdClusterAccess): Promise<string | undefined> {
  try {
    await withStore([endpoint], access, (s) => s.get('/kubewright/quorum-probe'));
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
  }
}

/**
 * Every member of the cluster with its health: the member list through any of `endpoints`, then a
 * linearizable read through each member's own client URL. undefined when no endpoint answers the list.
 */
export async function etcdMemberHealth(endpoints: string[], access: EtcdClusterAccess): Promise<EtcdMemberHealth[] | undefined> {
  const listed = await listEtcdMembers(endpoints, access);
  if (!listed) return undefined;
  return Promise.all(listed.map(async (m) => {
    const clientURL = m.clientURLs[0];
    if (clientURL === undefined) return { ...m, clientURL, healthy: false, detail: 'added but never started (no client URL)' };
    const failed = await readThrough(clientURL, access);
    return { ...m, clientURL, healthy: failed === undefined, detail: failed ?? 'linearizable read ok' };
  }));
}

/** How many members of n make a majority. */
const majority = (n: number): number => Math.floor(n / 2) + 1;

export class EtcdQuorumRefusal extends KubewrightError {}

/**
 * MemberRemove of the member whose peer URL is `peerUrl`, refused (before asking etcd) when the
 * members left would not hold a quorum: of the n-1 that stay, a majority of n-1 must answer a
 * linearizable read. etcd's own strict reconfiguration check refuses most such removals too;
 * this one names the members and the way out. Returns false when no member has that peer URL.
 */
export async function removeEtcdMember(endpoints: string[], peerUrl: string, access: EtcdClusterAccess & { deadlineMs?: number | undefined }): Promise<{ removed: boolean; member?: EtcdMember | undefined }> {
  const health = await etcdMemberHealth(endpoints, access);
  if (!health) throw new EtcdQuorumRefusal(`etcd: cannot remove ${peerUrl}: no member answers the member list (${endpoints.join(', ')})`, { hint: 'bring the etcd cluster back to quorum first: a member is only removed through the member API of a running cluster' });
  const target = health.find((m) => m.peerURLs.includes(peerUrl));
  if (!target) return { removed: false };
  const staying = health.filter((m) => m !== target);
  const healthy = staying.filter((m) => m.healthy);
  if (staying.length === 0 || healthy.length < majority(staying.length)) {
    const down = staying.filter((m) => !m.healthy).map((m) => m.name || m.id);
    throw new EtcdQuorumRefusal(
      `etcd: refusing to remove ${target.name || target.id} (${peerUrl}): the ${staying.length} member(s) left would need ${staying.length === 0 ? 'one' : majority(staying.length)} healthy for a quorum, ${healthy.length} answer${down.length ? ` (down: ${down.join(', ')})` : ''}`,
      { hint: staying.length === 0 ? 'the last member of a cluster is never removed: `down` or `reset` the whole control plane instead' : 'start the members that are down first (see `kubewright verify`), then run again: the removal waits until the rest hold a quorum' },
    );
  }
  const via = healthy.map((m) => m.clientURL).filter((u): u is string => u !== undefined);
  await whileUnhealthy(access.deadlineMs, () => withStore(via, access, (s) => s.memberRemove(target.id)));
  return { removed: true, member: { id: target.id, name: target.name, peerURLs: target.peerURLs, clientURLs: target.clientURL ? [target.clientURL] : [] } };
}

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

/**
 * MemberAdd through a running member: the cluster then expects a member at `peerUrl`. etcd
 * refuses an add while a member has been connected for less than its health interval (5 s,
 * "unhealthy cluster": the add could cost the quorum), so that answer is retried until `deadlineMs`.
 */
export async function addEtcdMember(endpoints: string[], peerUrl: string, access: EtcdClusterAccess & { deadlineMs?: number | undefined }): Promise<EtcdMember> {
  const deadline = Date.now() + (access.deadlineMs ?? 60_000);
  for (;;) {
    try {
      return await withStore(endpoints, access, async (s) => toMember(await s.memberAdd([peerUrl])));
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

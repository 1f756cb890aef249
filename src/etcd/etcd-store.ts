// The few key operations flannel's data needs, over either etcd API: flannel < 0.18 reads the
// v2 keys API, flannel ≥ 0.18 reads v3 — and the two are separate keyspaces on the same etcd.
import type { EtcdTls } from './etcd-tls.ts';
import { EtcdV2Store } from './etcd-v2-store.ts';
import { EtcdV3Store } from './etcd-v3-store.ts';

export interface EtcdKeyValue {
  key: string;
  value: string;
  /** v2 modifiedIndex, v3 mod_revision: changes on every write of this key */
  revision: number;
}

export interface EtcdStore {
  readonly api: 'v2' | 'v3';
  get(key: string): Promise<EtcdKeyValue | undefined>;
  /**
   * Writes `value` only if the key's revision is still `expectedRevision` (undefined: the key
   * must not exist yet). Returns the new revision; throws EtcdConflictError otherwise.
   */
  putIfUnchanged(key: string, value: string, expectedRevision: number | undefined): Promise<number>;
  /** every key below `dir` (`<dir>/...`), in key order */
  list(dir: string): Promise<EtcdKeyValue[]>;
  /** removes the key; true if it existed */
  delete(key: string): Promise<boolean>;
  close(): void;
}

export interface EtcdConnection {
  /** client URLs, tried in order until one answers */
  endpoints: string[];
  tls: EtcdTls;
  /** per request; default 5 s */
  timeoutMs?: number;
}

export function openEtcdStore(api: 'v2' | 'v3', conn: EtcdConnection): EtcdStore {
  return api === 'v2' ? new EtcdV2Store(conn) : new EtcdV3Store(conn);
}

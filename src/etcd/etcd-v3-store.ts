// etcd's v3 API through the `etcd3` gRPC client (what flannel ≥ 0.18 uses). gRPC rather than the
// JSON gateway because etcd ignores the client certificate's CN on the gateway: with auth enabled
// every gateway call fails ("CommonName of client sending a request against gateway will be ignored").
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  GRPCDeadlineExceededError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  type IMember,
} from 'etcd3';
import { classifyEtcdFailure } from './classify-etcd-failure.ts';
import { EtcdAuthError, EtcdConflictError, EtcdResponseError, EtcdUnreachableError } from './etcd-errors.ts';
import type { EtcdConnection, EtcdKeyValue, EtcdStore } from './etcd-store.ts';
import { clientCommonName } from './etcd-tls.ts';
import { traced } from '../trace.ts';

export class EtcdV3Store implements EtcdStore {
  readonly api = 'v3' as const;
  readonly #conn: EtcdConnection;
  readonly #client: Etcd3;

  constructor(conn: EtcdConnection) {
    this.#conn = conn;
    const timeout = conn.timeoutMs ?? 5000;
    const { tls } = conn;
    this.#client = new Etcd3({
      hosts: conn.endpoints,
      credentials: {
        rootCertificate: Buffer.from(tls.caPem),
        ...(tls.certPem !== undefined && tls.keyPem !== undefined
          ? { certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) }
          : {}),
      },
      dialTimeout: timeout,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
  }

  get(key: string): Promise<EtcdKeyValue | undefined> {
    return this.#call(`read ${key}`, async () => {
      const r = await this.#client.get(key).exec();
      const kv = r.kvs[0];
      return kv ? { key, value: kv.value.toString('utf8'), revision: Number(kv.mod_revision) } : undefined;
    });
  }

  putIfUnchanged(key: string, value: string, expectedRevision: number | undefined): Promise<number> {
    return this.#call(`write ${key}`, async () => {
      const guard =
        expectedRevision === undefined ? this.#client.if(key, 'Create', '==', 0) : this.#client.if(key, 'Mod', '==', expectedRevision);
      const r = await guard.then(this.#client.put(key).value(value)).commit();
      if (!r.succeeded) throw new EtcdConflictError(key);
      return Number(r.header.revision);
    });
  }

  list(dir: string): Promise<EtcdKeyValue[]> {
    return this.#call(`list ${dir}`, async () => {
      const r = await this.#client.getAll().prefix(`${dir}/`).sort('Key', 'Ascend').exec();
      return r.kvs.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), revision: Number(kv.mod_revision) }));
    });
  }

  delete(key: string): Promise<boolean> {
    return this.#call(`delete ${key}`, async () => Number((await this.#client.delete().key(key).exec()).deleted) > 0);
  }

  /** The cluster's members as etcd itself knows them (v3 MemberList). */
  memberList(): Promise<IMember[]> {
    return this.#call('list members', async () => (await this.#client.cluster.memberList({})).members);
  }

  /** Announces a new member by its peer URLs (v3 MemberAdd); it must then start with --initial-cluster-state existing. */
  memberAdd(peerURLs: string[]): Promise<IMember> {
    return this.#call(`add member ${peerURLs.join(',')}`, async () => {
      const r = await this.#client.cluster.memberAdd({ peerURLs });
      return r.member;
    });
  }

  /** Takes a member out of the cluster by its id (v3 MemberRemove); etcd refuses it when the rest would lose quorum. */
  memberRemove(id: string): Promise<void> {
    return this.#call(`remove member ${id}`, async () => {
      await this.#client.cluster.memberRemove({ ID: id });
    });
  }

  close(): void {
    this.#client.close();
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await traced(() => `etcd v3 ${this.#conn.endpoints.join(',')}: ${what}`, fn);
    } catch (e) {
      if (e instanceof EtcdConflictError) throw e;
      const where = this.#conn.endpoints.join(', ');
      if (
        e instanceof EtcdPermissionDeniedError ||
        e instanceof EtcdUserNotFoundError ||
        e instanceof EtcdAuthenticationFailedError ||
        e instanceof EtcdInvalidAuthTokenError ||
        e instanceof GRPCUnauthenticatedError
      ) {
        throw new EtcdAuthError(where, clientCommonName(this.#conn.tls), what, e.message.replace(/^\d+ [A-Z_]+: /, ''));
      }
      const f = classifyEtcdFailure(where, e, this.#conn.tls);
      if (f.kind === 'tls') throw f.error;
      if (e instanceof GRPCUnavailableError || e instanceof GRPCDeadlineExceededError) {
        throw new EtcdUnreachableError(this.#conn.endpoints, [f.reason]);
      }
      throw new EtcdResponseError(where, what, e instanceof Error ? e.message : String(e));
    }
  }
}

// etcd's v2 keys API over https with a client certificate (plain node:https: the API is JSON
// over HTTP). Tries the endpoints in order; the first member that answers decides.
import { request } from 'node:https';
import { classifyEtcdFailure } from './classify-etcd-failure.ts';
import { EtcdAuthError, EtcdConflictError, EtcdResponseError, EtcdUnreachableError, EtcdV2DisabledError } from './etcd-errors.ts';
import type { EtcdConnection, EtcdKeyValue, EtcdStore } from './etcd-store.ts';
import { clientCommonName } from './etcd-tls.ts';
import { traced } from '../trace.ts';

interface HttpAnswer {
  endpoint: string;
  status: number;
  body: string;
}

interface V2Node {
  key?: string;
  value?: string;
  dir?: boolean;
  modifiedIndex?: number;
  nodes?: V2Node[];
}

interface V2Body {
  node?: V2Node;
  errorCode?: number;
  message?: string;
  cause?: string;
}

function keyPath(key: string): string {
  return `/v2/keys${key.split('/').map(encodeURIComponent).join('/')}`;
}

export class EtcdV2Store implements EtcdStore {
  readonly api = 'v2' as const;
  readonly #conn: EtcdConnection;

  constructor(conn: EtcdConnection) {
    this.#conn = conn;
  }

  async get(key: string): Promise<EtcdKeyValue | undefined> {
    const a = await this.#request('GET', keyPath(key), undefined, `read ${key}`);
    const body = this.#parse(a, `read ${key}`);
    if (a.status === 404 && body.errorCode === 100) return undefined;
    this.#check(a, body, `read ${key}`);
    const n = body.node;
    if (!n || n.dir || typeof n.value !== 'string') throw new EtcdResponseError(a.endpoint, `read ${key}`, 'is a directory, not a value');
    return { key, value: n.value, revision: n.modifiedIndex ?? 0 };
  }

  async putIfUnchanged(key: string, value: string, expectedRevision: number | undefined): Promise<number> {
    const form = new URLSearchParams({ value });
    if (expectedRevision === undefined) form.set('prevExist', 'false');
    else form.set('prevIndex', String(expectedRevision));
    const a = await this.#request('PUT', keyPath(key), form.toString(), `write ${key}`);
    const body = this.#parse(a, `write ${key}`);
    // 101 compare failed, 105 key already exists
    if (a.status === 412 && (body.errorCode === 101 || body.errorCode === 105)) throw new EtcdConflictError(key);
    this.#check(a, body, `write ${key}`);
    return body.node?.modifiedIndex ?? 0;
  }

  async delete(key: string): Promise<boolean> {
    const a = await this.#request('DELETE', keyPath(key), undefined, `delete ${key}`);
    const body = this.#parse(a, `delete ${key}`);
    if (a.status === 404 && body.errorCode === 100) return false;
    this.#check(a, body, `delete ${key}`);
    return true;
  }

  async list(dir: string): Promise<EtcdKeyValue[]> {
    const a = await this.#request('GET', `${keyPath(dir)}?recursive=true&sorted=true`, undefined, `list ${dir}`);
    const body = this.#parse(a, `list ${dir}`);
    if (a.status === 404 && body.errorCode === 100) return [];
    this.#check(a, body, `list ${dir}`);
    const out: EtcdKeyValue[] = [];
    const walk = (n: V2Node | undefined): void => {
      if (!n) return;
      if (!n.dir && typeof n.value === 'string' && n.key) out.push({ key: n.key, value: n.value, revision: n.modifiedIndex ?? 0 });
      for (const c of n.nodes ?? []) walk(c);
    };
    walk(body.node);
    return out.filter((kv) => kv.key.startsWith(`${dir}/`)).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  close(): void {}

  #parse(a: HttpAnswer, what: string): V2Body {
    // etcd ≥ 3.4 without --enable-v2 has no handler for /v2/keys: Go's plain-text 404
    if (a.status === 404 && !a.body.trimStart().startsWith('{')) throw new EtcdV2DisabledError(a.endpoint);
    try {
      return JSON.parse(a.body) as V2Body;
    } catch {
      throw new EtcdResponseError(a.endpoint, what, `HTTP ${a.status} with a body that is not JSON`);
    }
  }

  #check(a: HttpAnswer, body: V2Body, what: string): void {
    if (a.status === 401 || a.status === 403 || body.errorCode === 110) {
      throw new EtcdAuthError(a.endpoint, clientCommonName(this.#conn.tls), what, body.message ?? `HTTP ${a.status}`);
    }
    if (a.status < 200 || a.status >= 300) {
      throw new EtcdResponseError(a.endpoint, what, `HTTP ${a.status}${body.message ? `: ${body.message}` : ''}${body.cause ? ` (${body.cause})` : ''}`);
    }
  }

  /** Sends to each endpoint in turn until one answers with something other than a 5xx. */
  async #request(method: string, path: string, form: string | undefined, what: string): Promise<HttpAnswer> {
    const reasons: string[] = [];
    let tlsError: Error | undefined;
    let last5xx: HttpAnswer | undefined;
    for (const endpoint of this.#conn.endpoints) {
      try {
        const a = await traced(() => `etcd v2 ${endpoint}: ${what}`, () => this.#send(endpoint, method, path, form), (r) => `HTTP ${r.status}`);
        if (a.status >= 500) {
          last5xx = a;
          reasons.push(`${endpoint}: HTTP ${a.status}`);
          continue;
        }
        return a;
      } catch (e) {
        const f = classifyEtcdFailure(endpoint, e, this.#conn.tls);
        if (f.kind === 'tls') {
          tlsError ??= f.error;
          reasons.push(`${endpoint}: ${f.error.message}`);
        } else reasons.push(f.reason);
      }
    }
    if (tlsError) throw tlsError;
    if (last5xx) throw new EtcdResponseError(last5xx.endpoint, what, `HTTP ${last5xx.status} from every member (${reasons.join('; ')})`);
    throw new EtcdUnreachableError(this.#conn.endpoints, reasons);
  }

  #send(endpoint: string, method: string, path: string, form: string | undefined): Promise<HttpAnswer> {
    const { tls } = this.#conn;
    const url = `${endpoint.replace(/\/+$/, '')}${path}`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: tls.caPem,
          cert: tls.certPem,
          key: tls.keyPem,
          timeout: this.#conn.timeoutMs ?? 5000,
          headers: form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ endpoint, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(form);
    });
  }
}

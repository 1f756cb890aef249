// TEST DOUBLE: a Kubernetes API server stand-in (there is no kube-apiserver binary on this
// machine). Serves over TLS with a certificate from kubewright's PKI, requires client
// certificates signed by the cluster CA, records who called (CN and O of the client
// certificate), and serves just enough of the API for `verify`, the DNS addon and kubelets:
// health, version, discovery, componentstatuses, nodes (+ status heartbeats), namespaces,
// services, deployments, configmaps, service accounts and RBAC objects, with server-side apply.
// Node objects turn NotReady (Ready=Unknown) when their heartbeat is older than staleAfterMs,
// as the node lifecycle controller does. A Deployment's replicas report ready only while some node
// is Ready (its pods need a node to run on) and the test has not held them back
// (`setReadyReplicas`, e.g. a crash-looping image); its status is computed when it is read, as
// the deployment controller would have written it. componentstatuses can report Unhealthy.
// Objects written whole (create, replace, server-side apply) are validated strictly against the
// upstream OpenAPI schema of the served version (test/contracts/kubernetes), as
// `kubectl apply --validate=strict` would: an unknown or mistyped field is a 422. A group version
// the release does not serve (apps/v1 Deployments on 1.8, extensions/v1beta1 on 1.16+) is a 404.
// For draining: pods (listed across namespaces, filtered by fieldSelector spec.nodeName=…),
// PodDisruptionBudgets (policy/v1; their status is computed when read, as the disruption
// controller would write it) and the pods/eviction subresource, which refuses with 429 and a
// DisruptionBudget cause while a matching budget allows no disruption, and with 500 when more
// than one budget matches, as the real eviction REST handler does. No controller recreates an
// evicted pod: a test adds the replacement itself. A deleted or evicted pod is gone at once, or,
// with `podTerminationMs`, carries a deletionTimestamp that long first (a kubelet's grace period).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { hasKubernetesSchema, servedByRelease, validateKubernetesObject } from '../contracts/kubernetes/validate-object.ts';

export interface ApiCall {
  method: string;
  path: string;
  /** CN of the client certificate */
  user: string;
  /** O of the client certificate */
  groups: string[];
  status: number;
  /** `<resource>/<name>` the call acted on (from the path, or the body of a create) */
  object?: string | undefined;
}

export interface KubeApiDoubleOptions {
  caPem: string;
  certPem: string;
  keyPem: string;
  host?: string;
  port?: number;
  /** the version /version reports, e.g. v1.36.0 */
  gitVersion?: string;
  /** a heartbeat older than this makes the node's Ready condition Unknown (default 8 s) */
  staleAfterMs?: number;
  /**
   * `node`: the Node authorizer + NodeRestriction — node writes only as system:node:<name> in
   * system:nodes, for that node (modern clusters). `any`: every client certificate of the CA may
   * do anything (the post's 1.8 master with a shared `kubelet` certificate).
   */
  authorization?: 'node' | 'any';
  /** /api/v1/componentstatuses exists (removed from real servers' usefulness long ago; the seed checks it) */
  componentStatuses?: boolean;
  /** false: like servers before 1.16, PATCH with application/apply-patch+yaml is 415 */
  serverSideApply?: boolean;
  /** /readyz fails with this check marked [-] */
  failingReadyzCheck?: string;
  /**
   * anonymous clients (no certificate, or one the CA did not sign) may GET /readyz, /livez and
   * /healthz and get 401 elsewhere, as kube-apiserver with anonymous auth limited to the health
   * paths (AuthenticationConfiguration); default: the TLS handshake refuses them
   */
  anonymousHealth?: boolean;
  /** componentstatuses reported Unhealthy, by name (scheduler, controller-manager, etcd-0), with the error each reports */
  unhealthyComponents?: Record<string, string>;
  /** how long a deleted or evicted pod stays (terminating, with a deletionTimestamp) before it is gone; default 0 */
  podTerminationMs?: number;
}

interface ResourceInfo {
  groupVersion: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

const resources: ResourceInfo[] = [
  { groupVersion: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  { groupVersion: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { groupVersion: 'v1', resource: 'componentstatuses', kind: 'ComponentStatus', namespaced: false },
  { groupVersion: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { groupVersion: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { groupVersion: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { groupVersion: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  { groupVersion: 'policy/v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  { groupVersion: 'apps/v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  // Kubernetes 1.8 (the post) serves Deployments here; this double keeps them apart from apps/v1
  { groupVersion: 'extensions/v1beta1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { groupVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  { groupVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  { groupVersion: 'rbac.authorization.k8s.io/v1', resource: 'roles', kind: 'Role', namespaced: true },
  { groupVersion: 'rbac.authorization.k8s.io/v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true },
];

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

interface Target {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: { causes: { reason: string; message: string }[] },
  ) {
    super(message);
  }
}

export class KubeApiDouble {
  readonly calls: ApiCall[] = [];
  /** stored objects by `groupVersion/resource/namespace/name` */
  readonly objects = new Map<string, Obj>();
  url = '';
  private server: Server | undefined;
  private resourceVersion = 100;
  private readonly staleAfterMs: number;
  /** ready replicas a test pinned, by `groupVersion/namespace/name` of the Deployment */
  private readonly pinnedReadyReplicas = new Map<string, number>();
  /** componentstatuses that report Unhealthy, by name, with their error; tests may change it */
  readonly unhealthyComponents: Map<string, string>;
  /** pods on their way out (podTerminationMs), removed when the timer fires or the double stops */
  private readonly terminating = new Set<NodeJS.Timeout>();
  /** the most pods each budget has matched (by uid), standing in for its controllers' scale */
  private readonly budgetScale = new Map<string, number>();

  constructor(private readonly opts: KubeApiDoubleOptions) {
    this.staleAfterMs = opts.staleAfterMs ?? 8000;
    this.unhealthyComponents = new Map(Object.entries(opts.unhealthyComponents ?? {}));
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      this.store({ info: resourceOf('v1', 'namespaces'), namespace: undefined, name: ns, subresource: undefined }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
    }
  }

  /** what /version reports from now on (an upgraded or an older control plane) */
  reportVersion(gitVersion: string): void {
    this.opts.gitVersion = gitVersion;
  }

  async start(): Promise<string> {
    this.server = createServer({ ca: this.opts.caPem, cert: this.opts.certPem, key: this.opts.keyPem, requestCert: true, rejectUnauthorized: !this.opts.anonymousHealth }, (req, res) => {
      void this.handle(req, res);
    });
    // a rejected client never reaches handle(); count it so tests can see the attempt
    this.server.on('tlsClientError', () => this.calls.push({ method: 'TLS', path: '', user: '', groups: [], status: 0 }));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.url = `https://${a.address}:${a.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.terminating) clearTimeout(t);
    this.terminating.clear();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.server = undefined;
  }

  /** The identities (CN) that wrote to a node object, by node name. */
  nodeWriters(name: string): string[] {
    return [...new Set(this.calls.filter((c) => c.method !== 'GET' && c.status > 0 && c.status < 300 && c.object === `nodes/${name}`).map((c) => c.user))];
  }

  node(name: string): Obj | undefined {
    const n = this.objects.get(`v1/nodes//${name}`);
    return n && this.nodeView(n);
  }

  /**
   * Pins how many of a Deployment's replicas report ready (0: pods that never pass their
   * readiness probe); undefined lets them follow the nodes again.
   */
  setReadyReplicas(groupVersion: string, namespace: string, name: string, ready: number | undefined): void {
    const key = `${groupVersion}/${namespace}/${name}`;
    if (ready === undefined) this.pinnedReadyReplicas.delete(key);
    else this.pinnedReadyReplicas.set(key, ready);
  }

  /** A stored Deployment as a client reads it (status included), or undefined. */
  deployment(groupVersion: string, namespace: string, name: string): Obj | undefined {
    const d = this.objects.get(`${groupVersion}/deployments/${namespace}/${name}`);
    return d && this.deploymentView(d);
  }

  /**
   * Stores an object as a controller or kubelet would have written it (no authorization, no
   * schema check), e.g. a running pod on a node; returns it as stored.
   */
  put(groupVersion: string, resource: string, obj: Record<string, unknown> & { metadata: Record<string, unknown> }): Obj {
    const info = resourceOf(groupVersion, resource);
    const namespace = info.namespaced ? String(obj.metadata['namespace'] ?? 'default') : undefined;
    return this.store({ info, namespace, name: String(obj.metadata['name']), subresource: undefined }, obj, this.objects.get(`${groupVersion}/${resource}/${namespace ?? ''}/${String(obj.metadata['name'])}`));
  }

  /** Stored pods, `namespace/name`, optionally only those bound to `nodeName`. */
  pods(nodeName?: string): string[] {
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith('v1/pods/') && (nodeName === undefined || (o['spec'] as { nodeName?: string } | undefined)?.nodeName === nodeName))
      .map(([, o]) => `${String(o.metadata['namespace'])}/${String(o.metadata['name'])}`);
  }

  deleteObject(groupVersion: string, resource: string, namespace: string | undefined, name: string): boolean {
    return this.objects.delete(`${groupVersion}/${resource}/${namespace ?? ''}/${name}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerCertificate() : { subject: { CN: 'system:anonymous', O: 'system:unauthenticated' } as Record<string, string | string[] | undefined> };
    const user = typeof peer.subject?.CN === 'string' ? peer.subject.CN : String(peer.subject?.CN ?? '');
    const o = peer.subject?.O as string | string[] | undefined;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    const url = new URL(req.url ?? '/', 'https://double');
    const call: ApiCall = { method: req.method ?? 'GET', path: url.pathname, user, groups, status: 0 };
    this.calls.push(call);
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      call.status = status;
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      const body = await readBody(req);
      if (!socket.authorized && !['/readyz', '/livez', '/healthz'].includes(url.pathname)) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      const r = this.route(call.method, url, req.headers['content-type'] ?? '', body, { user, groups }, call, req.headers.accept ?? '');
      send(r.status, r.body, r.type);
    } catch (e) {
      if (e instanceof HttpError) send(e.status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: e.message, reason: e.reason, ...(e.details ? { details: e.details } : {}), code: e.status });
      else send(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(e), reason: 'InternalError', code: 500 });
    }
  }

  private route(method: string, url: URL, contentType: string, body: string, who: { user: string; groups: string[] }, call: ApiCall, accept = ''): { status: number; body: unknown; type?: string } {
    const p = url.pathname.replace(/\/$/, '') || '/';
    if (method === 'GET' && (p === '/readyz' || p === '/livez' || p === '/healthz')) {
      const checks = ['ping', 'log', 'etcd', 'informer-sync', 'poststarthook/start-apiextensions-informers'];
      const failing = this.opts.failingReadyzCheck;
      const lines = checks.map((c) => (c === failing ? `[-]${c} failed: reason withheld` : `[+]${c} ok`));
      const ok = failing === undefined;
      const text = url.searchParams.has('verbose') ? `${lines.join('\n')}\n${p.slice(1)} check ${ok ? 'passed' : 'failed'}\n` : ok ? 'ok' : `${p.slice(1)} check failed`;
      return { status: ok ? 200 : 500, body: text, type: 'text/plain' };
    }
    if (method === 'GET' && p === '/version') {
      const v = this.opts.gitVersion ?? 'v1.36.0';
      const m = /^v(\d+)\.(\d+)/.exec(v);
      return { status: 200, body: { major: m?.[1] ?? '1', minor: m?.[2] ?? '36', gitVersion: v, platform: 'linux/amd64' } };
    }
    if (method === 'GET' && p === '/api') return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (method === 'GET' && p === '/apis') {
      const groups = [...new Set(resources.filter((r) => r.groupVersion.includes('/') && servedByRelease(r.groupVersion, r.kind, this.minor())).map((r) => r.groupVersion))].map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      });
      return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups } };
    }
    const parsed = parseApiPath(p);
    if (!parsed) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${p})`);
    if (!('discovery' in parsed) && !servedByRelease(parsed.info.groupVersion, parsed.info.kind, this.minor())) {
      throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${parsed.info.groupVersion} ${parsed.info.resource} is not served by ${this.opts.gitVersion ?? 'v1.36.0'})`);
    }
    if ('discovery' in parsed) {
      const list = resources.filter((r) => r.groupVersion === parsed.discovery && servedByRelease(r.groupVersion, r.kind, this.minor()));
      if (list.length === 0) throw new HttpError(404, 'NotFound', `no group version ${parsed.discovery}`);
      return {
        status: 200,
        body: {
          kind: 'APIResourceList', apiVersion: 'v1', groupVersion: parsed.discovery,
          resources: list.flatMap((r) => [
            { name: r.resource, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] },
            ...(r.resource === 'nodes' || r.resource === 'deployments' ? [{ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
            ...(r.resource === 'pods' ? [{ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }] : []),
          ]),
        },
      };
    }
    const t = parsed;
    call.object = t.name !== undefined ? `${t.info.resource}/${t.name}` : method === 'POST' ? `${t.info.resource}/${nameInBody(body)}` : undefined;
    this.authorize(method, t, body, who);
    if (t.info.resource === 'componentstatuses') {
      if (!this.opts.componentStatuses) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
      const items = ['scheduler', 'controller-manager', 'etcd-0'].map((name) => {
        const error = this.unhealthyComponents.get(name);
        // as 1.8 serves it: an unhealthy component has status False and an error (message is omitempty)
        const condition = error !== undefined ? { type: 'Healthy', status: 'False', error } : { type: 'Healthy', status: 'True', message: name === 'etcd-0' ? '{"health": "true"}' : 'ok' };
        return { metadata: { name }, conditions: [condition] };
      });
      return { status: 200, body: { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items } };
    }
    if (t.name === undefined) {
      if (method === 'GET') {
        const prefix = `${t.info.groupVersion}/${t.info.resource}/`;
        const fieldSelector = parseFieldSelector(url.searchParams.get('fieldSelector'));
        const labelSelector = parseLabelSelector(url.searchParams.get('labelSelector'));
        const items = [...this.objects.entries()]
          .filter(([k, o]) => k.startsWith(prefix) && (t.namespace === undefined || o.metadata['namespace'] === t.namespace))
          .filter(([, o]) => fieldSelector(o) && selectorMatches(labelSelector, labelsOf(o)))
          .map(([, o]) => this.view(t.info, o));
        // kubectl asks for a Table; nodes get the columns `kubectl get nodes` shows
        if (t.info.kind === 'Node' && accept.includes('as=Table')) return { status: 200, body: nodeTable(items, this.resourceVersion) };
        return { status: 200, body: { kind: `${t.info.kind}List`, apiVersion: t.info.groupVersion, metadata: { resourceVersion: String(this.resourceVersion) }, items } };
      }
      if (method === 'POST') {
        const obj = parseObject(body, contentType);
        this.validate(t.info, obj);
        const name = obj.metadata['name'];
        if (typeof name !== 'string' || !name) throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
        const target = { ...t, name };
        if (this.objects.has(keyOf(target))) throw new HttpError(409, 'AlreadyExists', `${t.info.resource} "${name}" already exists`);
        return { status: 201, body: this.view(t.info, this.store(target, obj)) };
      }
      throw new HttpError(405, 'MethodNotAllowed', `${method} not allowed on a collection`);
    }
    const key = keyOf(t);
    const existing = this.objects.get(key);
    if (t.info.resource === 'pods' && t.subresource === 'eviction') {
      if (method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', `${method} not allowed on pods/eviction`);
      if (!existing) throw notFound(t);
      return this.evict(t, existing, parseObject(body, contentType));
    }
    if (t.info.resource === 'pods' && method === 'DELETE' && existing) {
      this.deletePod(key, existing);
      return { status: 200, body: existing };
    }
    switch (method) {
      case 'GET':
        if (!existing) throw notFound(t);
        return { status: 200, body: this.view(t.info, existing) };
      case 'DELETE':
        if (!existing) throw notFound(t);
        this.objects.delete(key);
        return { status: 200, body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } };
      case 'PUT': {
        if (!existing) throw notFound(t);
        const obj = parseObject(body, contentType);
        if (t.subresource !== 'status') this.validate(t.info, obj);
        return { status: 200, body: this.view(t.info, this.store(t, t.subresource === 'status' ? { ...existing, status: obj['status'] } : obj, existing)) };
      }
      case 'PATCH': {
        const patch = parseObject(body, contentType);
        if (contentType.startsWith('application/apply-patch') && this.opts.serverSideApply === false) {
          throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
        }
        if (contentType.startsWith('application/apply-patch')) {
          const manager = url.searchParams.get('fieldManager');
          if (!manager) throw new HttpError(400, 'BadRequest', 'PATCH with application/apply-patch+yaml requires fieldManager');
          this.validate(t.info, patch);
          const merged = existing ? mergePatch(existing, patch) as Obj : patch;
          const managers = ((existing?.metadata['managedFields'] as { manager: string }[] | undefined) ?? []).filter((m) => m.manager !== manager);
          merged.metadata = { ...merged.metadata, managedFields: [...managers, { manager, operation: 'Apply', apiVersion: t.info.groupVersion }] };
          return { status: existing ? 200 : 201, body: this.view(t.info, this.store(t, merged, existing)) };
        }
        if (!existing) throw notFound(t);
        if (!/json-patch|merge-patch/.test(contentType)) throw new HttpError(415, 'UnsupportedMediaType', `unsupported patch type ${contentType}`);
        if (contentType.includes('json-patch+json')) throw new HttpError(415, 'UnsupportedMediaType', 'JSON patch is not supported by this double');
        const merged = mergePatch(existing, t.subresource === 'status' ? { status: patch['status'] } : patch) as Obj;
        return { status: 200, body: this.view(t.info, this.store(t, merged, existing)) };
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', `${method} not allowed`);
    }
  }

  /** A whole object a client writes, judged by the served minor's OpenAPI schema (kinds with a vendored schema only). */
  private minor(): number {
    return Number(/^v1\.(\d+)/.exec(this.opts.gitVersion ?? 'v1.36.0')?.[1] ?? 36);
  }

  private validate(info: ResourceInfo, obj: Obj): void {
    const minor = this.minor();
    const apiVersion = typeof obj['apiVersion'] === 'string' ? obj['apiVersion'] : info.groupVersion;
    const kind = typeof obj['kind'] === 'string' ? obj['kind'] : info.kind;
    if (apiVersion !== info.groupVersion || kind !== info.kind) {
      throw new HttpError(400, 'BadRequest', `the object's ${apiVersion} ${kind} does not match the request path (${info.groupVersion} ${info.kind})`);
    }
    if (!hasKubernetesSchema(apiVersion, kind, minor)) return;
    const problems = validateKubernetesObject(obj, minor);
    if (problems.length > 0) throw new HttpError(422, 'Invalid', `${kind} "${String(obj.metadata['name'] ?? '')}" is invalid: ${problems.join('; ')}`);
  }

  /** The Node authorizer + NodeRestriction, reduced to what kubelets and admins do. */
  private authorize(method: string, t: Target, body: string, who: { user: string; groups: string[] }): void {
    if (this.opts.authorization === 'any' || who.groups.includes('system:masters')) return;
    const isNode = who.groups.includes('system:nodes') && who.user.startsWith('system:node:');
    if (method === 'GET') return;
    if (t.info.resource !== 'nodes') throw new HttpError(403, 'Forbidden', `${t.info.resource} is forbidden: User "${who.user}" cannot ${method.toLowerCase()} resource "${t.info.resource}"`);
    if (!isNode) {
      throw new HttpError(403, 'Forbidden', `nodes is forbidden: User "${who.user}" (groups ${JSON.stringify(who.groups)}) cannot modify nodes: kubelets must use a certificate with CN system:node:<name> and O system:nodes`);
    }
    const self = who.user.slice('system:node:'.length);
    const target = t.name ?? nameInBody(body);
    if (target !== self) throw new HttpError(403, 'Forbidden', `nodes "${target}" is forbidden: node "${self}" is not allowed to modify node "${target}"`);
  }

  private store(t: Target, obj: Obj, existing?: Obj): Obj {
    const name = t.name ?? String(obj.metadata['name']);
    const meta: Record<string, unknown> = { ...obj.metadata, name };
    if (t.namespace !== undefined) meta['namespace'] = t.namespace;
    meta['uid'] = existing?.metadata['uid'] ?? randomUUID();
    meta['creationTimestamp'] = existing?.metadata['creationTimestamp'] ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const next: Obj = { ...obj, apiVersion: t.info.groupVersion, kind: t.info.kind, metadata: meta };
    // a Deployment's status is the controller's: computed when read (deploymentView), never stored from a client
    if (t.info.kind === 'Deployment') delete next['status'];
    // an unchanged object keeps its resourceVersion, as a no-op apply does on a real server
    const same = existing && JSON.stringify(strip(existing)) === JSON.stringify(strip(next));
    meta['resourceVersion'] = same ? existing.metadata['resourceVersion'] : String(++this.resourceVersion);
    const key = `${t.info.groupVersion}/${t.info.resource}/${t.namespace ?? ''}/${name}`;
    this.objects.set(key, next);
    return next;
  }

  private view(info: ResourceInfo, o: Obj): Obj {
    if (info.kind === 'Node') return this.nodeView(o);
    if (info.kind === 'Deployment') return this.deploymentView(o);
    if (info.kind === 'PodDisruptionBudget') return this.budgetView(o);
    return o;
  }

  /**
   * The eviction REST handler (pkg/registry/core/pod/storage/eviction.go), reduced: a pod that is
   * already terminating or not running (Pending, Succeeded, Failed) goes without a budget check;
   * more than one matching budget is a 500; a matching budget with no disruption allowed is a 429
   * naming it; otherwise the pod is deleted and the answer is 201 Success.
   */
  private evict(t: Target, pod: Obj, eviction: Obj): { status: number; body: unknown } {
    if (eviction.metadata['name'] !== undefined && eviction.metadata['name'] !== t.name) {
      throw new HttpError(400, 'BadRequest', `name in URL does not match name in Eviction object`);
    }
    const key = keyOf(t);
    const success = { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    if (pod.metadata['deletionTimestamp'] !== undefined) return success;
    if (phase === 'Running') {
      const budgets = this.budgetsFor(pod);
      if (budgets.length > 1) {
        throw new HttpError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      }
      const budget = budgets[0];
      if (budget) {
        const st = this.budgetView(budget)['status'] as { disruptionsAllowed: number; desiredHealthy: number; currentHealthy: number };
        if (st.disruptionsAllowed <= 0) {
          throw new HttpError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${String(budget.metadata['name'])} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently` }],
          });
        }
      }
    }
    this.deletePod(key, pod);
    return success;
  }

  private deletePod(key: string, pod: Obj): void {
    const ms = this.opts.podTerminationMs ?? 0;
    if (ms <= 0) {
      this.objects.delete(key);
      return;
    }
    if (pod.metadata['deletionTimestamp'] !== undefined) return;
    pod.metadata['deletionTimestamp'] = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    pod.metadata['resourceVersion'] = String(++this.resourceVersion);
    const timer = setTimeout(() => {
      this.terminating.delete(timer);
      if (this.objects.get(key) === pod) this.objects.delete(key);
    }, ms);
    this.terminating.add(timer);
  }

  /** The budgets in the pod's namespace whose selector matches its labels. */
  private budgetsFor(pod: Obj): Obj[] {
    const ns = pod.metadata['namespace'];
    return [...this.objects.entries()]
      .filter(([k, b]) => k.startsWith('policy/v1/poddisruptionbudgets/') && b.metadata['namespace'] === ns)
      .map(([, b]) => b)
      .filter((b) => selectorMatches(((b['spec'] ?? {}) as { selector?: LabelSelector }).selector ?? {}, labelsOf(pod)));
  }

  /**
   * What the disruption controller would report: running matching pods not being deleted are
   * healthy; the expected count is the controllers' scale, which the double (having no
   * controllers) takes as the most matching pods it has seen, so an evicted pod still counts as
   * expected; minAvailable / maxUnavailable (integers or percentages, rounded up as
   * intstr.GetScaledValueFromIntOrPercent does) give the healthy count needed.
   */
  private budgetView(b: Obj): Obj {
    const spec = (b['spec'] ?? {}) as { selector?: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string };
    const ns = b.metadata['namespace'];
    const matching = [...this.objects.entries()]
      .filter(([k, p]) => k.startsWith('v1/pods/') && p.metadata['namespace'] === ns && selectorMatches(spec.selector ?? {}, labelsOf(p)))
      .map(([, p]) => p);
    const scaleKey = String(b.metadata['uid']);
    const expected = Math.max(matching.length, this.budgetScale.get(scaleKey) ?? 0);
    this.budgetScale.set(scaleKey, expected);
    const healthy = matching.filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running' && p.metadata['deletionTimestamp'] === undefined).length;
    const scaled = (v: number | string): number => (typeof v === 'number' ? v : Math.ceil((expected * Number.parseInt(v, 10)) / 100));
    const desired = spec.maxUnavailable !== undefined ? Math.max(0, expected - scaled(spec.maxUnavailable)) : scaled(spec.minAvailable ?? 1);
    return { ...b, status: { observedGeneration: 1, expectedPods: expected, currentHealthy: healthy, desiredHealthy: desired, disruptionsAllowed: Math.max(0, healthy - desired) } };
  }

  private readyNodes(): number {
    return [...this.objects.entries()].filter(([k, n]) => {
      if (!k.startsWith('v1/nodes/')) return false;
      const conditions = ((this.nodeView(n)['status'] ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
      return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    }).length;
  }

  /**
   * What the deployment controller would report: every replica ready once some node is Ready
   * (preferred anti-affinity lets them share one), unless a test pinned the number. Available
   * when no more than maxUnavailable replicas are missing, as apps/v1 defines it.
   */
  private deploymentView(o: Obj): Obj {
    const spec = (o['spec'] ?? {}) as { replicas?: number; strategy?: { rollingUpdate?: { maxUnavailable?: number | string } } };
    const replicas = Number(spec.replicas ?? 1);
    const pinned = this.pinnedReadyReplicas.get(`${String(o['apiVersion'])}/${String(o.metadata['namespace'] ?? '')}/${String(o.metadata['name'])}`);
    const ready = Math.min(replicas, pinned ?? (this.readyNodes() > 0 ? replicas : 0));
    const mu = spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%';
    const maxUnavailable = typeof mu === 'number' ? mu : Math.floor((replicas * Number.parseInt(mu, 10)) / 100);
    const available = ready >= replicas - maxUnavailable && ready > 0;
    const condition = available
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
    return { ...o, status: { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready, unavailableReplicas: replicas - ready, conditions: [condition] } };
  }

  private nodeView(o: Obj): Obj {
    const status = (o['status'] ?? {}) as { conditions?: Record<string, string>[] };
    const conditions = status.conditions ?? [];
    const ready = conditions.find((c) => c['type'] === 'Ready');
    const beat = ready?.['lastHeartbeatTime'] ? Date.parse(ready['lastHeartbeatTime']) : NaN;
    if (!ready || !(Date.now() - beat > this.staleAfterMs)) return o;
    const stale = { ...ready, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    return { ...o, status: { ...status, conditions: conditions.map((c) => (c === ready ? stale : c)) } };
  }
}

function nodeTable(nodes: Obj[], resourceVersion: number): unknown {
  const column = (name: string): Record<string, unknown> => ({ name, type: 'string', format: name === 'Name' ? 'name' : '', description: '', priority: 0 });
  const age = (ts: unknown): string => {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(String(ts))) / 1000));
    return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
  };
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: String(resourceVersion) },
    columnDefinitions: ['Name', 'Status', 'Roles', 'Age', 'Version'].map(column),
    rows: nodes.map((n) => {
      const status = (n['status'] ?? {}) as { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return {
        cells: [n.metadata['name'], ready ? 'Ready' : 'NotReady', '<none>', age(n.metadata['creationTimestamp']), status.nodeInfo?.kubeletVersion ?? ''],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: n.metadata },
      };
    }),
  };
}

function resourceOf(groupVersion: string, resource: string): ResourceInfo {
  const r = resources.find((x) => x.groupVersion === groupVersion && x.resource === resource);
  if (!r) throw new HttpError(404, 'NotFound', `the server doesn't have a resource type "${resource}" in ${groupVersion}`);
  return r;
}

function parseApiPath(p: string): Target | { discovery: string } | undefined {
  const parts = p.split('/').filter(Boolean).map((x) => decodeURIComponent(x));
  let gv: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    gv = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    gv = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) return { discovery: gv };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  return { info: resourceOf(gv, resource ?? ''), namespace, name, subresource };
}

function keyOf(t: Target): string {
  return `${t.info.groupVersion}/${t.info.resource}/${t.namespace ?? ''}/${t.name ?? ''}`;
}

function notFound(t: Target): HttpError {
  return new HttpError(404, 'NotFound', `${t.info.resource} "${t.name}" not found`);
}

function nameInBody(body: string): string {
  try {
    return String(parseObject(body, 'application/json').metadata['name'] ?? '');
  } catch {
    return '';
  }
}

function parseObject(body: string, contentType: string): Obj {
  const v: unknown = contentType.includes('yaml') ? parseYaml(body) : JSON.parse(body || '{}');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'BadRequest', 'the body must be an object');
  const o = v as Record<string, unknown>;
  return { ...o, metadata: (o['metadata'] ?? {}) as Record<string, unknown> };
}

/** JSON merge patch (RFC 7386), except that lists of conditions merge by `type` as strategic merge does. */
function mergePatch(target: unknown, patch: unknown, key = ''): unknown {
  if (key === 'conditions' && Array.isArray(target) && Array.isArray(patch)) {
    const out = [...target] as Record<string, unknown>[];
    for (const c of patch as Record<string, unknown>[]) {
      const i = out.findIndex((x) => x['type'] === c['type']);
      if (i >= 0) out[i] = { ...out[i], ...c };
      else out.push(c);
    }
    return out;
  }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v, k);
  }
  return base;
}

function strip(o: Obj): unknown {
  const { resourceVersion: _rv, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

function labelsOf(o: Obj): Record<string, string> {
  return (o.metadata['labels'] ?? {}) as Record<string, string>;
}

/** A metav1.LabelSelector; the empty selector matches everything (policy/v1 budgets). */
function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (sel.matchExpressions ?? []).every((x) => {
    const has = Object.hasOwn(labels, x.key);
    switch (x.operator) {
      case 'In': return has && (x.values ?? []).includes(labels[x.key] ?? '');
      case 'NotIn': return !has || !(x.values ?? []).includes(labels[x.key] ?? '');
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
    }
  });
}

/** `a=b,c!=d` label selectors (equality only, as the clients here send them). */
function parseLabelSelector(text: string | null): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const term of (text ?? '').split(',').filter(Boolean)) {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (ne) matchExpressions.push({ key: ne[1] ?? '', operator: 'NotIn', values: [ne[2] ?? ''] });
    else if (eq) matchLabels[eq[1] ?? ''] = eq[2] ?? '';
    else matchExpressions.push({ key: term, operator: 'Exists' });
  }
  return { matchLabels, matchExpressions };
}

/** Field selectors the double understands: metadata.name, metadata.namespace, spec.nodeName, status.phase (= and !=). */
function parseFieldSelector(text: string | null): (o: Obj) => boolean {
  const terms = (text ?? '').split(',').filter(Boolean).map((term) => {
    const m = /^(metadata\.name|metadata\.namespace|spec\.nodeName|status\.phase)(!=|==?)(.*)$/.exec(term);
    if (!m) throw new HttpError(400, 'BadRequest', `"${term}" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"`);
    const [, field = '', op = '', value = ''] = m;
    return { path: field.split('.'), negate: op === '!=', value };
  });
  return (o) => terms.every(({ path, negate, value }) => {
    const v = path.reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Record<string, unknown>)[k] : undefined), o);
    return (String(v ?? '') === value) !== negate;
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

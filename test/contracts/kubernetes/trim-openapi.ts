// Trims upstream Kubernetes OpenAPI documents (v2 swagger.json or v3 per group-version files) to
// the object kinds kubewright renders or may apply, plus everything they reference, and the list
// of every group/version/kind the release serves. The result is small enough to vendor; the
// definitions are copied as upstream wrote them (x-kubernetes-* keys and descriptions dropped).
//
// Usage (provenance of each input in README.md beside this file):
//   node --import tsx test/contracts/kubernetes/trim-openapi.ts 1.8 swagger-1.8.json > test/contracts/kubernetes/openapi-1.8.json
//   node --import tsx test/contracts/kubernetes/trim-openapi.ts 1.35 builtins/1.35/api/v1.json builtins/1.35/apis/*/*.json > test/contracts/kubernetes/openapi-1.35.json
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The kinds whose schemas are kept (when the release has them): what kubewright renders, and its near neighbours. */
export const KEPT_KINDS: readonly string[] = [
  'v1/ServiceAccount', 'v1/ConfigMap', 'v1/Service', 'v1/Secret', 'v1/Namespace',
  'apps/v1/Deployment', 'apps/v1/DaemonSet', 'apps/v1beta1/Deployment', 'apps/v1beta2/Deployment', 'apps/v1beta2/DaemonSet',
  'extensions/v1beta1/Deployment', 'extensions/v1beta1/DaemonSet',
  'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1beta1/ClusterRole', 'rbac.authorization.k8s.io/v1beta1/ClusterRoleBinding',
];

export interface TrimmedOpenApi {
  /** upstream info.version of the first input */
  upstreamVersion: string;
  /** every `group/version/Kind` (core: `v1/Kind`) the release serves */
  served: string[];
  /** `group/version/Kind` → definition name */
  kinds: Record<string, string>;
  /** definitions by name; `$ref`s point to `#/definitions/<name>` */
  definitions: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  const raw = readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as Json;
}

function gvkKey(g: { group?: string; version?: string; kind?: string }): string {
  return `${g.group ? `${g.group}/` : ''}${g.version ?? ''}/${g.kind ?? ''}`;
}

/** Drops descriptions and x-kubernetes-* keys, rewrites v3 `#/components/schemas/` refs to `#/definitions/`. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (k === 'description' || k.startsWith('x-kubernetes-') && k !== 'x-kubernetes-int-or-string' && k !== 'x-kubernetes-preserve-unknown-fields') continue;
    out[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/definitions/') : clean(x);
  }
  return out;
}

function refsOf(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) v.forEach((x) => refsOf(x, into));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Json)) {
      if (k === '$ref' && typeof x === 'string') into.add(x.replace(/^#\/(definitions|components\/schemas)\//, ''));
      else refsOf(x, into);
    }
  }
}

export function trimOpenApi(files: string[]): TrimmedOpenApi {
  const all: Record<string, unknown> = {};
  let upstreamVersion = '';
  for (const f of files) {
    const doc = readJson(f);
    upstreamVersion ||= String((doc['info'] as Json | undefined)?.['version'] ?? '');
    const defs = (doc['definitions'] ?? (doc['components'] as Json | undefined)?.['schemas'] ?? {}) as Record<string, unknown>;
    Object.assign(all, defs);
  }
  const served = new Set<string>();
  const kinds: Record<string, string> = {};
  for (const [name, def] of Object.entries(all)) {
    const gvks = (def as Json)['x-kubernetes-group-version-kind'] as { group?: string; version?: string; kind?: string }[] | undefined;
    // a kind served by the API has list and read paths; *List, WatchEvent, DeleteOptions etc. carry GVKs too
    for (const g of gvks ?? []) {
      const key = gvkKey(g);
      if (/(List|WatchEvent|Options|Status)$/.test(g.kind ?? '') && !KEPT_KINDS.includes(key)) continue;
      // the old io.k8s.kubernetes.pkg.apis.* copies in 1.8's swagger duplicate io.k8s.api.*: prefer io.k8s.api
      if (kinds[key] && !name.startsWith('io.k8s.api.')) continue;
      served.add(key);
      if (KEPT_KINDS.includes(key)) kinds[key] = name;
    }
  }
  const keep = new Set<string>();
  const queue = Object.values(kinds);
  while (queue.length > 0) {
    const n = queue.pop() as string;
    if (keep.has(n)) continue;
    if (!(n in all)) throw new Error(`trim: ${n} is referenced but not defined`);
    keep.add(n);
    const refs = new Set<string>();
    refsOf(all[n], refs);
    queue.push(...refs);
  }
  const definitions = Object.fromEntries([...keep].sort().map((n) => [n, clean(all[n])]));
  return { upstreamVersion, served: [...served].sort(), kinds: Object.fromEntries(Object.entries(kinds).sort()), definitions };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [, , , ...files] = process.argv;
  if (files.length === 0) {
    process.stderr.write('usage: trim-openapi.ts <minor> <openapi file>...\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(trimOpenApi(files))}\n`);
}

// Generates JSON schemas of KubeletConfiguration (kubelet.config.k8s.io/v1beta1) and
// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) for every Kubernetes minor from the
// upstream Go types, read from the published staging repositories at their release tags:
//   kubernetes/kubelet        config/v1beta1/types.go
//   kubernetes/kube-proxy     config/v1alpha1/types.go
//   kubernetes/component-base config/v1alpha1, logs/api/v1, tracing/api/v1 types.go (1.14+)
//   kubernetes/apimachinery   pkg/apis/config/v1alpha1/types.go (ClientConnectionConfiguration before 1.14)
// Field names come from the `json:"…"` tags; every struct is closed (additionalProperties false),
// as the kubelet and kube-proxy decode their config files strictly. Types outside these files
// (core/v1's Taint, NodeConfigSource, …) stay open objects; metav1.Duration is a Go duration string.
//
// Usage: node --import tsx test/contracts/component-config/generate-schemas.ts <dir holding kubelet/ kube-proxy/ component-base/ apimachinery/ git clones> 12 36
// Writes kubelet.schemas.json and kube-proxy.schemas.json beside this script.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

interface GoField { name: string; type: string; json: string; inline: boolean }
interface GoType { pkg: string; name: string; fields?: GoField[]; underlying?: string }
interface GoFile { pkg: string; imports: Map<string, string>; types: GoType[] }

/** A deliberately small Go parser: imports, `type X struct {…}` with tagged fields, `type X <underlying>`. */
export function parseGoTypes(pkg: string, src: string): GoFile {
  // line comments first: their text may hold `/*` (e.g. "/etc/kubernetes/*")
  const code = src.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  const block = /^import \(([\s\S]*?)^\)/m.exec(code)?.[1] ?? '';
  for (const line of [...block.split('\n'), ...[...code.matchAll(/^import (.*)$/gm)].map((m) => m[1] ?? '')]) {
    const m = /^\s*(\w+)?\s*"([^"]+)"/.exec(line);
    if (m?.[2]) imports.set(m[1] ?? m[2].split('/').at(-1) ?? '', m[2]);
  }
  const types: GoType[] = [];
  for (const m of code.matchAll(/^type (\w+) struct \{\n([\s\S]*?)^\}/gm)) {
    const fields: GoField[] = [];
    for (const raw of (m[2] ?? '').split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      const f = /^(?:(\w+)\s+)?([\w.*[\]]+)\s+`([^`]*)`$/.exec(line);
      if (!f) {
        // an untagged embedded TypeMeta (the apiserver's config types) is inlined by encoding/json all the same
        if (/^metav1\.TypeMeta$/.test(line)) {
          fields.push({ name: 'TypeMeta', type: line, json: '', inline: true });
          continue;
        }
        if (/struct\s*\{/.test(line)) throw new Error(`${pkg}.${m[1]}: anonymous struct fields are not supported: ${line}`);
        continue; // an untagged field is not part of the config format
      }
      const tag = /json:"([^"]*)"/.exec(f[3] ?? '')?.[1];
      if (tag === undefined) continue;
      const [json = '', ...opts] = tag.split(',');
      if (json === '-') continue;
      fields.push({ name: f[1] ?? f[2] ?? '', type: f[2] ?? '', json, inline: opts.includes('inline') || (f[1] === undefined && json === '') });
    }
    types.push({ pkg, name: m[1] ?? '', fields });
  }
  for (const m of code.matchAll(/^type (\w+) ((?!struct)[\w.*[\]]+)\s*$/gm)) types.push({ pkg, name: m[1] ?? '', underlying: m[2] ?? '' });
  return { pkg, imports, types };
}

// Go's time.ParseDuration: "0", or a sequence of decimal numbers with units
const DURATION = { type: 'string', pattern: '^(0|([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$' };

/** Types from packages not parsed here, as they appear in the config file. */
const EXTERNAL: Record<string, Schema> = {
  'k8s.io/apimachinery/pkg/apis/meta/v1.Duration': DURATION,
  'k8s.io/apimachinery/pkg/apis/meta/v1.Time': { type: 'string' },
  'k8s.io/api/core/v1.ResourceList': { type: 'object', additionalProperties: { type: ['string', 'number'] } },
  'k8s.io/apimachinery/pkg/api/resource.QuantityValue': { type: ['string', 'number'] },
  // encoding/json writes a time.Duration as integer nanoseconds
  'time.Duration': { type: 'integer' },
};

/** A JSON pointer to a definition: the package path's `/` escaped as `~1` (RFC 6901). */
export function definitionRef(key: string): string {
  return `#/definitions/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

export function buildSchema(files: GoFile[], rootPkg: string, root: string): { definitions: Record<string, Schema>; open: string[] } {
  const byKey = new Map<string, { file: GoFile; type: GoType }>();
  for (const file of files) for (const type of file.types) byKey.set(`${file.pkg}.${type.name}`, { file, type });
  const definitions: Record<string, Schema> = {};
  const open = new Set<string>();

  const schemaOf = (t: string, file: GoFile): Schema => {
    if (t.startsWith('*')) return schemaOf(t.slice(1), file);
    if (t === '[]byte') return { type: 'string' };
    if (t.startsWith('[]')) return { type: 'array', items: schemaOf(t.slice(2), file) };
    const map = /^map\[(\w+)\](.+)$/.exec(t);
    if (map) return { type: 'object', additionalProperties: schemaOf(map[2] ?? '', file) };
    if (t === 'string') return { type: 'string' };
    if (t === 'bool') return { type: 'boolean' };
    if (/^u?int(8|16|32|64)?$/.test(t)) return { type: 'integer' };
    if (/^float(32|64)$/.test(t)) return { type: 'number' };
    const [alias, name] = t.includes('.') ? t.split('.') as [string, string] : [undefined, t];
    const pkg = alias === undefined ? file.pkg : file.imports.get(alias) ?? (alias === 'time' ? 'time' : undefined);
    if (!pkg) throw new Error(`${file.pkg}: unknown import alias ${alias ?? ''} in ${t}`);
    const key = `${pkg}.${name}`;
    if (EXTERNAL[key]) return EXTERNAL[key];
    if (!byKey.has(key)) {
      open.add(key);
      return {};
    }
    define(key);
    return { $ref: definitionRef(key) };
  };

  const define = (key: string): void => {
    if (key in definitions) return;
    const found = byKey.get(key);
    if (!found) throw new Error(`no type ${key}`);
    const { file, type } = found;
    if (type.underlying !== undefined) {
      definitions[key] = {};
      definitions[key] = schemaOf(type.underlying, file);
      return;
    }
    const properties: Record<string, Schema> = {};
    definitions[key] = { type: 'object', properties, additionalProperties: false };
    const add = (fields: GoField[], f: GoFile): void => {
      for (const field of fields) {
        if (field.inline) {
          const t = field.type.replace(/^\*/, '');
          if (t === 'metav1.TypeMeta') {
            properties['apiVersion'] = { type: 'string' };
            properties['kind'] = { type: 'string' };
            continue;
          }
          const [alias, name] = t.includes('.') ? t.split('.') as [string, string] : [undefined, t];
          const inner = byKey.get(`${alias === undefined ? f.pkg : f.imports.get(alias) ?? ''}.${name}`);
          if (!inner?.type.fields) throw new Error(`${key}: cannot inline ${field.type}`);
          add(inner.type.fields, inner.file);
          continue;
        }
        properties[field.json] = schemaOf(field.type, f);
      }
    };
    add(type.fields ?? [], file);
  };
  define(`${rootPkg}.${root}`);
  return { definitions, open: [...open].sort() };
}

export interface Source { repo: string; path: string; pkg: string }

const KUBELET: Source[] = [{ repo: 'kubelet', path: 'config/v1beta1/types.go', pkg: 'k8s.io/kubelet/config/v1beta1' }];
const KUBE_PROXY: Source[] = [{ repo: 'kube-proxy', path: 'config/v1alpha1/types.go', pkg: 'k8s.io/kube-proxy/config/v1alpha1' }];
const SHARED: Source[] = [
  { repo: 'component-base', path: 'config/v1alpha1/types.go', pkg: 'k8s.io/component-base/config/v1alpha1' },
  { repo: 'component-base', path: 'logs/api/v1/types.go', pkg: 'k8s.io/component-base/logs/api/v1' },
  { repo: 'component-base', path: 'tracing/api/v1/types.go', pkg: 'k8s.io/component-base/tracing/api/v1' },
  { repo: 'apimachinery', path: 'pkg/apis/config/v1alpha1/types.go', pkg: 'k8s.io/apimachinery/pkg/apis/config/v1alpha1' },
];

function gitShow(dir: string, ref: string, path: string): string | undefined {
  try {
    return execFileSync('git', ['--git-dir', dir, 'show', `${ref}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

function gitCommit(dir: string, ref: string): string {
  return execFileSync('git', ['--git-dir', dir, 'rev-parse', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
}

export interface ComponentSchemas {
  component: string;
  kind: string;
  generatedBy: string;
  /** per minor: the tag, the commits of the sources, and the type key of each definition variant */
  minors: Record<string, { tag: string; commits: Record<string, string>; root: string; definitions: Record<string, string>; open: string[]; apiVersion?: string }>;
  /** definition variants, shared between minors where upstream did not change them */
  variants: Record<string, Schema>;
}

export function generate(repos: string, component: string, kind: string, rootPkg: string, own: Source[], from: number, to: number): ComponentSchemas {
  const out: ComponentSchemas = { component, kind, generatedBy: 'test/contracts/component-config/generate-schemas.ts', minors: {}, variants: {} };
  const variantIds = new Map<string, string>();
  for (let minor = from; minor <= to; minor++) {
    const tag = `kubernetes-1.${minor}.0`;
    const files: GoFile[] = [];
    const commits: Record<string, string> = {};
    for (const s of [...own, ...SHARED]) {
      const dir = join(repos, s.repo);
      const src = gitShow(dir, tag, s.path);
      if (src === undefined) continue;
      commits[`${s.repo}/${s.path}`] = gitCommit(dir, tag);
      files.push(parseGoTypes(s.pkg, src));
    }
    const { definitions, open } = buildSchema(files, rootPkg, kind);
    const ids: Record<string, string> = {};
    for (const [key, schema] of Object.entries(definitions)) {
      const text = JSON.stringify(schema);
      let id = variantIds.get(`${key} ${text}`);
      if (!id) {
        id = `${key}@1.${minor}`;
        variantIds.set(`${key} ${text}`, id);
        out.variants[id] = schema;
      }
      ids[key] = id;
    }
    out.minors[`1.${minor}`] = { tag, commits, root: `${rootPkg}.${kind}`, definitions: ids, open };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [, , repos, from = '12', to = '36'] = process.argv;
  if (!repos) {
    process.stderr.write('usage: generate-schemas.ts <dir with kubelet/ kube-proxy/ component-base/ apimachinery/ git dirs> [from minor] [to minor]\n');
    process.exit(2);
  }
  const here = import.meta.dirname;
  const kubelet = generate(repos, 'kubelet', 'KubeletConfiguration', 'k8s.io/kubelet/config/v1beta1', KUBELET, Number(from), Number(to));
  writeFileSync(join(here, 'kubelet.schemas.json'), `${JSON.stringify(kubelet)}\n`);
  const proxy = generate(repos, 'kube-proxy', 'KubeProxyConfiguration', 'k8s.io/kube-proxy/config/v1alpha1', KUBE_PROXY, Number(from), Number(to));
  writeFileSync(join(here, 'kube-proxy.schemas.json'), `${JSON.stringify(proxy)}\n`);
}

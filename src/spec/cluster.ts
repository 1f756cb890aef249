// The validated cluster: the spec with profile defaults applied, addresses and versions parsed,
// and cross-field rules checked. Everything downstream (render, pki, providers, phases) takes a Cluster.
import { preflightCheckIds } from './preflight-check-ids.ts';
import { isAlias, isCollection, isPair, isSeq, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecIssue } from '../errors.ts';
import { cidrAddress, cidrContains, cidrsOverlap, parseCidr, parseIPv4, type Cidr } from './ipv4.ts';
import { labMachineAddressOffset } from './lab-addresses.ts';
import { endpointForIp } from './etcd-endpoint.ts';
import { hostNamePattern, specSchema, type ParsedSpec } from './schema.ts';
import { flannelEtcdApi } from './matrix.ts';
import { profileViolations } from './profile-rules.ts';
import { parseKubeVersion, type KubeVersion } from './version.ts';

export type Profile = 'modern' | 'seed';

/** What each profile means when the spec leaves a field out. */
export const profileDefaults = {
  seed: {
    // the post: Kubernetes 1.8, docker 17.03.2-ce, flannel 0.9.0 (etcd v2), kube-dns 1.14.5
    kubernetes: '1.8.0',
    runtime: 'docker',
    dns: 'kube-dns',
    versions: {
      // etcd: Kubernetes The Hard Way of the Kubernetes 1.8 era installs etcd v3.2.8
      flannel: '0.9.0', etcd: '3.2.8', containerd: '1.0.3', runc: '1.0.0-rc4', cniPlugins: '0.6.0', flannelCniPlugin: 'v1.0.0',
      docker: '17.03.2-ce', coredns: '1.0.6', kubeDns: '1.14.5',
    },
  },
  modern: {
    kubernetes: '1.36',
    runtime: 'containerd',
    dns: 'coredns',
    versions: {
      // etcd: the 3.6 line Kubernetes 1.34+ is built and tested against (kubeadm's constants)
      flannel: '0.27.4', etcd: '3.6.4', containerd: '2.1.4', runc: '1.3.0', cniPlugins: '1.7.1', flannelCniPlugin: 'v1.7.1-flannel2',
      docker: '28.3.3', coredns: '1.12.3', kubeDns: '1.14.5',
    },
  },
} as const satisfies Record<Profile, unknown>;

export interface StaticHostSpec {
  name: string;
  address: string;
  port?: number | undefined;
  user?: string | undefined;
  privateAddress?: string | undefined;
}

export type ProviderSpec =
  | ({ kind: 'digitalocean' } & NonNullable<ParsedSpec['provider']['digitalocean']>)
  | { kind: 'static'; hosts: StaticHostSpec[] }
  | ({ kind: 'lab' } & NonNullable<ParsedSpec['provider']['lab']>)
  | { kind: 'terraform'; outputFile: string };

/** How the spec's `controlPlane:` section reads once validated (absent: an existing control plane). */
export interface ControlPlaneSpec {
  count: 1 | 3 | 5;
  /** provider.static: the control-plane hosts as written; other providers name them (empty here) */
  hosts: StaticHostSpec[];
  /** stacked: etcd on the control-plane hosts; external: on `count` hosts of its own */
  etcd: { placement: 'stacked' } | { placement: 'external'; count: 1 | 3 | 5; hosts: StaticHostSpec[] };
  /**
   * where the API servers are reached: `spec` (controlPlane.endpoint or kubernetes.apiServer as
   * written), `first-master` (count 1, or the lab, which has no balancer: the first master's
   * address), `load-balancer` (DigitalOcean, more than one master: the API balancer's IP once it
   * exists, withLoadBalancerEndpoint). `url` is what kubernetes.apiServer holds.
   */
  endpoint: { url: string; address?: string | undefined; dnsName?: string | undefined; port: number; source: 'spec' | 'first-master' | 'load-balancer' };
}

export interface Cluster {
  /** the file the spec came from (for messages and for resolving relative paths) */
  sourceFile: string;
  name: string;
  profile: Profile;
  kubernetes: {
    version: KubeVersion;
    apiServer: string;
    clusterDomain: string;
    clusterDNS: string;
    serviceCIDR: Cidr;
    podCIDR: Cidr;
    kubeProxyMode: 'iptables' | 'nftables' | 'ipvs';
  };
  provider: ProviderSpec;
  /** the control plane kubewright builds; absent when the spec has no controlPlane section */
  controlPlane?: ControlPlaneSpec | undefined;
  workers: { count: number };
  etcd: {
    discovery: { digitaloceanTag?: string | undefined; endpoints?: string[] | undefined };
    prefix: string;
    /** which etcd API flannel talks: v2 for flannel < 0.18, v3 from 0.18.0 */
    api: 'v2' | 'v3';
  };
  flannel: ParsedSpec['flannel'];
  runtime: 'containerd' | 'docker';
  dns: 'coredns' | 'kube-dns';
  versions: { [K in keyof (typeof profileDefaults)['modern']['versions']]: string };
  pki: ParsedSpec['pki'];
  ssh: ParsedSpec['ssh'];
  artifacts: ParsedSpec['artifacts'];
  preflight: ParsedSpec['preflight'];
}

/** Hints by field path (longest prefix wins), so every message says how to fix it. */
const hints: [string, string][] = [
  ['apiVersion', 'the first line of the spec must be `apiVersion: kubewright.dev/v1alpha1`'],
  ['kind', 'set `kind: Cluster`'],
  ['metadata.name', 'use a short lowercase name such as `demo`'],
  ['profile', 'use `modern` (default) or `seed` (the 2017 post, reproduced)'],
  ['kubernetes.version', 'write a minor such as "1.36" (quoted), a full version such as "1.36.2", or an exact pre-release such as "1.30.0-rc.1"'],
  ['kubernetes.apiServer', 'the URL workers use to reach the API server, e.g. https://api.example.com:6443 (or add a controlPlane section and kubewright derives it)'],
  ['kubernetes.clusterDNS', 'pick an address inside kubernetes.serviceCIDR, conventionally the .10 (e.g. 10.32.0.10)'],
  ['kubernetes.serviceCIDR', 'write a CIDR block such as 10.32.0.0/24 with no host bits set'],
  ['kubernetes.podCIDR', 'write a CIDR block such as 10.200.0.0/16 that does not overlap serviceCIDR'],
  ['kubernetes.kubeProxyMode', 'use iptables (default), nftables (Kubernetes ≥ 1.33) or ipvs'],
  ['provider', 'set exactly one of provider.digitalocean, provider.static, provider.lab or provider.terraform'],
  ['provider.digitalocean.domain', 'workers are named k8s-worker-{index}.{domain}, as in the post'],
  ['provider.digitalocean.firewall', 'e.g. firewall: { sshFrom: [203.0.113.7/32], internalFrom: [10.110.0.0/20] }; see docs/security.md'],
  ['provider.static.hosts', 'list hosts as `- { name: w1, address: 203.0.113.10 }`'],
  ['controlPlane', 'e.g. controlPlane: { count: 3, endpoint: { dnsName: api.example.com } }; see docs/control-plane.md'],
  ['controlPlane.count', 'use 1, 3 or 5 control-plane hosts'],
  ['controlPlane.hosts', 'with provider.static, list the control-plane hosts as `- { name: m1, address: 203.0.113.20, privateAddress: 10.0.0.20 }`'],
  ['controlPlane.etcd', 'leave controlPlane.etcd out for etcd on the control-plane hosts (stacked), or give etcd.count (etcd.hosts with provider.static)'],
  ['controlPlane.endpoint', 'give the address or DNS name that reaches the API servers, e.g. endpoint: { dnsName: api.example.com, port: 6443 }'],
  ['workers.count', 'set workers.count to how many worker nodes you want'],
  ['etcd.prefix', 'flannel reads <prefix>/config; the post uses /flannel.com/network'],
  ['etcd.discovery', 'set etcd.discovery.endpoints: [https://10.0.0.5:2379] or etcd.discovery.digitaloceanTag: k8s-etcd'],
  ['runtime', 'use containerd (modern) or docker (seed, Kubernetes < 1.24)'],
  ['dns', 'use coredns (modern) or kube-dns (seed)'],
  ['versions', 'write versions like 0.27.4; leave the field out for the profile default'],
  ['artifacts.checksums', 'map an upstream artifact URL to its sha256 hex digest'],
  ['preflight.ignoreErrors', `list preflight checks to accept knowingly (${preflightCheckIds.join(', ')}), or [all]; \`kubewright doctor\` shows them`],
  ['ssh', 'see `kubewright init` for the ssh block'],
];

function hintFor(path: string): string | undefined {
  let best: [string, string] | undefined;
  for (const h of hints) {
    if ((path === h[0] || path.startsWith(`${h[0]}.`)) && (!best || h[0].length > best[0].length)) best = h;
  }
  return best?.[1];
}

function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(doc: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function issueFromZod(doc: unknown, i: z.core.$ZodIssue): SpecIssue[] {
  const base = i.path.map(String).join('.');
  if (i.code === 'unrecognized_keys') {
    return i.keys.map((k) => {
      const path = base ? `${base}.${k}` : k;
      return { path, message: 'unknown field', hint: 'remove it or check its spelling against `kubewright init`' };
    });
  }
  const got = valueAt(doc, i.path);
  let message = i.message;
  if (i.code === 'invalid_type' && got === undefined) message = 'is required';
  const issue: SpecIssue = { path: base, message, hint: hintFor(base) };
  if (got !== undefined) issue.got = show(got);
  return [issue];
}

/** The largest spec file read: a 10,000-host static list fits in well under a megabyte. */
export const maxSpecBytes = 1024 * 1024;
/** Aliases a spec may use; each may point only at an alias-free node, so none can expand exponentially. */
const maxAliases = 100;

export function specTooLarge(sourceFile: string, bytes: number): SpecError {
  return new SpecError(sourceFile, [{
    path: '(file)', message: `is larger than ${maxSpecBytes} bytes (got ${bytes})`, hint: 'a cluster spec is a short YAML file; check that -f names the right file',
  }]);
}

/** The dotted field path of a node from the ancestors `visit` reports (map keys and sequence indexes). */
function pathOf(ancestors: readonly unknown[], node: unknown): string {
  const parts: string[] = [];
  const chain = [...ancestors, node];
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isPair(parent)) {
      if (parent.value === child) parts.push(String((parent.key as { value?: unknown } | null)?.value ?? parent.key));
    } else if (isSeq(parent)) parts.push(String(parent.items.indexOf(child as never)));
  }
  return parts.join('.') || '(document)';
}

/**
 * Aliases are resolved by hand before `toJS`: an undefined one is a spec error (the YAML library
 * would throw a ReferenceError), and one whose anchor holds aliases itself is refused because
 * nesting is what lets a few hundred bytes expand to gigabytes ("billion laughs").
 */
function aliasIssues(doc: Document): SpecIssue[] {
  const issues: SpecIssue[] = [];
  let count = 0;
  const reported = new Set<string>();
  visit(doc, {
    Alias(_key, node, ancestors) {
      count += 1;
      const path = pathOf(ancestors, node);
      // one issue per anchor name is enough to find it
      if (reported.has(node.source) && count <= maxAliases) return undefined;
      const before = issues.length;
      const target = node.resolve(doc);
      if (!target) {
        issues.push({ path, message: `YAML alias *${node.source} has no anchor &${node.source} before it`, hint: 'define the anchor first, or write the value out' });
      } else if (isCollection(target)) {
        let nested = false;
        visit(target, { Alias: () => { nested = true; return visit.BREAK; } });
        if (nested) issues.push({ path, message: `YAML alias *${node.source} points at a node that holds aliases itself (an alias bomb expands exponentially)`, hint: 'write the value out instead of nesting aliases' });
      } else if (isAlias(target)) {
        issues.push({ path, message: `YAML alias *${node.source} points at another alias`, hint: 'write the value out' });
      }
      if (issues.length > before) reported.add(node.source);
      if (count > maxAliases) {
        issues.push({ path, message: `more than ${maxAliases} YAML aliases`, hint: 'write the values out' });
        return visit.BREAK;
      }
      return issues.length >= 10 ? visit.BREAK : undefined;
    },
  });
  return issues;
}

/** Parses YAML text into a Cluster. Throws SpecError (exit 2) naming every bad field. */
export function parseCluster(text: string, sourceFile = 'cluster.yaml'): Cluster {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxSpecBytes) throw specTooLarge(sourceFile, bytes);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      sourceFile,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: pos ? `line ${pos.line}:${pos.col}` : '', message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, hint: 'fix the YAML syntax' };
      }),
    );
  }
  const aliases = aliasIssues(doc);
  if (aliases.length > 0) throw new SpecError(sourceFile, aliases);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: maxAliases });
  } catch (e) {
    // a YAML construct the checks above did not foresee: still bad input, never a crash
    throw new SpecError(sourceFile, [{ path: '(document)', message: `YAML: ${e instanceof Error ? e.message : String(e)}`, hint: 'simplify the YAML (no custom tags, no nested aliases)' }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError(sourceFile, [{ path: '', message: 'must be a YAML mapping', hint: 'start from `kubewright init`' }]);
  }
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) throw new SpecError(sourceFile, parsed.error.issues.flatMap((i) => issueFromZod(raw, i)));
  return resolveCluster(parsed.data, sourceFile);
}

function resolveCluster(spec: ParsedSpec, sourceFile: string): Cluster {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, got?: unknown, hint = hintFor(path)): void => {
    const issue: SpecIssue = { path, message, hint };
    if (got !== undefined) issue.got = show(got);
    issues.push(issue);
  };
  const defaults = profileDefaults[spec.profile];
  const k = spec.kubernetes;

  const versionText = k.version ?? defaults.kubernetes;
  const parsedVersion = parseKubeVersion(versionText);
  // a version the release URLs cannot be built from is refused, never replaced by a default
  if (!parsedVersion) {
    add('kubernetes.version', 'must be a Kubernetes release: a minor (1.36), a patch (1.36.2) or a pre-release of a patch (1.30.0-rc.1, -alpha.N, -beta.N)', versionText);
  }
  const version = parsedVersion ?? { major: 1, minor: 36, patch: undefined };
  if (parsedVersion && (version.major !== 1 || version.minor < 8)) add('kubernetes.version', 'must be Kubernetes 1.8 or newer', versionText);

  const serviceCIDR = parseCidr(k.serviceCIDR);
  const podCIDR = parseCidr(k.podCIDR);
  const dnsIp = parseIPv4(k.clusterDNS);
  if (!serviceCIDR) add('kubernetes.serviceCIDR', 'must be an IPv4 CIDR block with no host bits set', k.serviceCIDR);
  if (!podCIDR) add('kubernetes.podCIDR', 'must be an IPv4 CIDR block with no host bits set', k.podCIDR);
  if (dnsIp === undefined) add('kubernetes.clusterDNS', 'must be an IPv4 address', k.clusterDNS);
  if (serviceCIDR && dnsIp !== undefined) {
    if (!cidrContains(serviceCIDR, dnsIp)) add('kubernetes.clusterDNS', `must be inside serviceCIDR ${serviceCIDR.text}`, k.clusterDNS);
    else if (dnsIp === serviceCIDR.base || dnsIp === serviceCIDR.base + 1) {
      add('kubernetes.clusterDNS', 'must not be the network address or the first address (the kubernetes Service uses it)', k.clusterDNS);
    }
  }
  if (serviceCIDR && podCIDR && cidrsOverlap(serviceCIDR, podCIDR)) {
    add('kubernetes.podCIDR', `must not overlap serviceCIDR ${serviceCIDR.text}`, k.podCIDR);
  }
  if (podCIDR && podCIDR.prefix >= spec.flannel.subnetLen) {
    add('flannel.subnetLen', `must be longer than the podCIDR prefix /${podCIDR.prefix} so each node gets a subnet`, spec.flannel.subnetLen, 'e.g. 24 for a /16 podCIDR');
  }

  // provider: exactly one
  const kinds = (['digitalocean', 'static', 'lab', 'terraform'] as const).filter((p) => spec.provider[p] !== undefined);
  let provider: ProviderSpec | undefined;
  if (kinds.length !== 1) {
    add('provider', kinds.length === 0 ? 'must set one provider' : `must set exactly one provider (got ${kinds.join(', ')})`);
  } else if (spec.provider.digitalocean) {
    provider = { kind: 'digitalocean', ...spec.provider.digitalocean };
    // the name becomes a folder under `render --out` and pki.dir, and the node name in units
    const sample = provider.namePattern.replaceAll('{index}', '0').replaceAll('{domain}', provider.domain);
    if (!hostNamePattern.test(sample)) add('provider.digitalocean.namePattern', `must give host names (letters, digits, "." and "-"); it gives ${JSON.stringify(sample)}`, provider.namePattern, 'e.g. k8s-worker-{index}.{domain}');
  }
  else if (spec.provider.static) provider = { kind: 'static', hosts: spec.provider.static.hosts };
  else if (spec.provider.lab) provider = { kind: 'lab', ...spec.provider.lab };
  else if (spec.provider.terraform) provider = { kind: 'terraform', ...spec.provider.terraform };

  // the post's kubelet keeps Kubernetes 1.8 defaults: anonymous requests allowed on 10250, read-only 10255
  if (spec.profile === 'seed' && provider?.kind === 'digitalocean' && !provider.firewall.enabled) {
    add('provider.digitalocean.firewall.enabled', 'the seed profile does not run on DigitalOcean without the firewall: its kubelet (Kubernetes 1.8 defaults) lets anonymous requests exec into pods on port 10250 and serves read-only data on 10255 to anyone who can reach the droplet', false, 'remove `firewall: { enabled: false }` (the firewall allows 10250/10255 only from the pool\'s tag and firewall.internalFrom), or use profile: modern');
  }

  let count = spec.workers?.count;
  if (provider?.kind === 'static') {
    const names = provider.hosts.map((h) => h.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) add('provider.static.hosts', 'host names must be unique', dup);
    if (count !== undefined && count !== provider.hosts.length) {
      add('workers.count', `must equal the number of static hosts (${provider.hosts.length}) or be left out`, count);
    }
    count = provider.hosts.length;
  } else if (provider?.kind === 'lab') {
    if (count !== undefined && count !== provider.hosts) add('workers.count', `must equal provider.lab.hosts (${provider.hosts}) or be left out`, count);
    count = provider.hosts;
    const subnet = parseCidr(provider.subnet);
    if (!subnet || subnet.prefix > 26) add('provider.lab.subnet', 'must be an IPv4 CIDR block of /26 or larger', provider.subnet, 'e.g. 10.213.0.0/24');
  } else if (count === undefined && provider?.kind !== 'terraform') {
    add('workers.count', 'is required for this provider', undefined);
  }

  const controlPlane = provider ? resolveControlPlane(spec, provider, count ?? 0, add) : undefined;
  const apiServer = k.apiServer ?? controlPlane?.endpoint.url;
  if (apiServer === undefined && !spec.controlPlane) add('kubernetes.apiServer', 'is required');

  const runtime = spec.runtime ?? defaults.runtime;
  const dns = spec.dns ?? defaults.dns;
  for (const v of profileViolations({ profile: spec.profile, runtime, dns, kubeProxyMode: k.kubeProxyMode, version, versionText })) add(v.field, v.message, v.got, v.hint);
  const versions = { ...defaults.versions, ...stripUndefined(spec.versions) };
  const flannelVersion = parseKubeVersion(versions.flannel.replace(/^v/, '').split('-')[0] ?? '');
  const etcdApi = flannelEtcdApi(flannelVersion);
  const etcdVersion = parseKubeVersion(versions.etcd.replace(/^v/, ''));
  // etcd 3.6 removed the v2 API that flannel < 0.18 speaks (3.4 and 3.5 serve it with --enable-v2)
  if (spec.controlPlane && etcdApi === 'v2' && etcdVersion && (etcdVersion.major > 3 || (etcdVersion.major === 3 && etcdVersion.minor >= 6))) {
    add('versions.etcd', `must be below 3.6 while flannel ${versions.flannel} talks etcd's v2 API (etcd 3.6 removed it)`, versions.etcd, 'use versions.etcd: "3.5.21", or flannel 0.18.0 or newer (etcd v3)');
  }

  if (issues.length > 0 || !provider || !serviceCIDR || !podCIDR || apiServer === undefined || count === undefined && provider.kind !== 'terraform') {
    throw new SpecError(sourceFile, issues);
  }
  return {
    sourceFile,
    name: spec.metadata.name,
    profile: spec.profile,
    kubernetes: {
      version,
      apiServer,
      clusterDomain: k.clusterDomain,
      clusterDNS: k.clusterDNS,
      serviceCIDR,
      podCIDR,
      kubeProxyMode: k.kubeProxyMode,
    },
    provider,
    ...(controlPlane ? { controlPlane } : {}),
    workers: { count: count ?? 0 },
    etcd: { discovery: controlPlane ? etcdDiscoveryOf(spec.etcd.discovery, provider, controlPlane, count ?? 0) : spec.etcd.discovery, prefix: spec.etcd.prefix, api: etcdApi },
    flannel: spec.flannel,
    runtime,
    dns,
    versions,
    pki: spec.pki,
    ssh: spec.ssh,
    artifacts: spec.artifacts,
    preflight: spec.preflight,
  };
}

type AddIssue = (path: string, message: string, got?: unknown, hint?: string) => void;

/**
 * The controlPlane section, validated against the provider: static hosts are listed (and their
 * names unique across every role), other providers name them; the endpoint is the user's, or the
 * first master's address where kubewright can know it before anything exists.
 */
function resolveControlPlane(spec: ParsedSpec, provider: ProviderSpec, workers: number, add: AddIssue): ControlPlaneSpec | undefined {
  const cp = spec.controlPlane;
  if (!cp) return undefined;
  const isStatic = provider.kind === 'static';
  if (provider.kind === 'terraform') {
    add('controlPlane', 'is not supported with provider.terraform (its output names worker droplets only)', undefined, 'use provider.digitalocean, provider.static or provider.lab for a control plane kubewright builds');
    return undefined;
  }
  const listed = (path: string, hosts: StaticHostSpec[] | undefined, count: number | undefined): { count: 1 | 3 | 5; hosts: StaticHostSpec[] } | undefined => {
    if (isStatic) {
      if (!hosts) { add(`${path}.hosts`, 'is required with provider.static'); return undefined; }
      if (![1, 3, 5].includes(hosts.length)) { add(`${path}.hosts`, `must list 1, 3 or 5 hosts (got ${hosts.length})`); return undefined; }
      if (count !== undefined && count !== hosts.length) { add(`${path}.count`, `must equal the number of ${path}.hosts (${hosts.length}) or be left out`, count); return undefined; }
      return { count: hosts.length as 1 | 3 | 5, hosts };
    }
    if (hosts) { add(`${path}.hosts`, `lists hosts only with provider.static; provider.${provider.kind} creates them`, undefined, `give ${path}.count instead`); return undefined; }
    if (count === undefined) { add(`${path}.count`, 'is required', undefined); return undefined; }
    return { count: count as 1 | 3 | 5, hosts: [] };
  };
  const masters = listed('controlPlane', cp.hosts, cp.count);
  const external = cp.etcd === undefined ? undefined : listed('controlPlane.etcd', cp.etcd.hosts, cp.etcd.count);
  if (!masters || (cp.etcd !== undefined && !external)) return undefined;

  if (provider.kind === 'static') {
    const names = [...provider.hosts, ...masters.hosts, ...(external?.hosts ?? [])].map((h) => h.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) add('controlPlane.hosts', 'host names must be unique across provider.static.hosts, controlPlane.hosts and controlPlane.etcd.hosts', dup);
  }

  const e = cp.endpoint;
  const port = e?.port ?? 6443;
  let endpoint: ControlPlaneSpec['endpoint'] | undefined;
  if (e?.dnsName !== undefined || e?.address !== undefined) {
    endpoint = { url: `https://${e.dnsName ?? e.address}:${port}`, address: e.address, dnsName: e.dnsName, port, source: 'spec' };
  } else if (spec.kubernetes.apiServer !== undefined) {
    const u = new URL(spec.kubernetes.apiServer);
    endpoint = { url: spec.kubernetes.apiServer, port: u.port === '' ? 443 : Number(u.port), source: 'spec', ...(parseIPv4(u.hostname) !== undefined ? { address: u.hostname } : { dnsName: u.hostname }) };
  } else {
    const first = firstMasterAddress(provider, masters, workers);
    if (first !== undefined && (masters.count === 1 || provider.kind === 'lab')) {
      endpoint = { url: `https://${first}:${port}`, address: first, port, source: 'first-master' };
    } else if (provider.kind === 'static') {
      add('controlPlane.endpoint', `is required with ${masters.count} static control-plane hosts: kubewright balances no static hosts`, undefined, 'give the address or DNS name of your load balancer in front of the masters, e.g. endpoint: { address: 203.0.113.30 }');
    } else if (provider.kind === 'digitalocean') {
      // the API load balancer's IP (more than one master) or the master droplet's
      // address, known once `up` has them (settleEndpoint); until then a name that resolves nowhere
      const source = masters.count > 1 ? 'load-balancer' : 'first-master';
      endpoint = { url: `https://${pendingEndpointHost(spec.metadata.name, source)}:${port}`, port, source };
    }
  }
  if (!endpoint) return undefined;
  return {
    count: masters.count,
    hosts: masters.hosts,
    etcd: external ? { placement: 'external', ...external } : { placement: 'stacked' },
    endpoint,
  };
}

/**
 * The host of `kubernetes.apiServer` while the endpoint's address is not known yet (a DigitalOcean
 * API load balancer's IP, or the one master droplet's address, before `up` made them): under
 * `.invalid` (RFC 2606), so nothing can reach it by accident.
 */
export function pendingEndpointHost(clusterName: string, source: 'load-balancer' | 'first-master'): string {
  return source === 'load-balancer' ? `kubewright-${clusterName}-api.load-balancer.invalid` : `kubewright-${clusterName}-master.droplet.invalid`;
}

/** The endpoint's address is not known yet: `up` learns it from the provider (settleEndpoint). */
export function awaitsEndpointAddress(cluster: Pick<Cluster, 'controlPlane'>): boolean {
  const e = cluster.controlPlane?.endpoint;
  return e !== undefined && e.source !== 'spec' && e.address === undefined;
}

/** The cluster with the endpoint at `address` (kubernetes.apiServer follows unless the spec set it). */
export function withEndpointAddress(cluster: Cluster, address: string): Cluster {
  const cp = cluster.controlPlane;
  if (!cp || cp.endpoint.source === 'spec') return cluster;
  const url = `https://${address}:${cp.endpoint.port}`;
  return { ...cluster, kubernetes: { ...cluster.kubernetes, apiServer: url }, controlPlane: { ...cp, endpoint: { ...cp.endpoint, url, address } } };
}

/** The etcd tag DigitalOcean etcd members carry (stacked masters too) when the spec names none: what etcd-lookup searches. */
export const defaultEtcdTag = 'k8s-etcd';

/**
 * Where workers find the etcd kubewright builds, unless etcd.discovery says: the members' client
 * URLs where the spec decides their addresses (static hosts, lab machines), else the DigitalOcean
 * tag the etcd members carry.
 */
function etcdDiscoveryOf(given: ParsedSpec['etcd']['discovery'], provider: ProviderSpec, cp: ControlPlaneSpec, workers: number): Cluster['etcd']['discovery'] {
  if (given.digitaloceanTag !== undefined || given.endpoints !== undefined) return given;
  const external = cp.etcd.placement === 'external' ? cp.etcd : undefined;
  if (provider.kind === 'static') {
    return { endpoints: (external?.hosts ?? cp.hosts).map((h) => endpointForIp(h.privateAddress ?? h.address)) };
  }
  if (provider.kind === 'lab') {
    const subnet = parseCidr(provider.subnet);
    if (!subnet) return given;
    // the bridge order: workers, control-plane machines, etcd machines
    const first = labMachineAddressOffset + workers + (external ? cp.count : 0);
    return { endpoints: Array.from({ length: external?.count ?? cp.count }, (_, i) => endpointForIp(cidrAddress(subnet, first + i))) };
  }
  return { digitaloceanTag: defaultEtcdTag };
}

/** The first master's address where the spec alone decides it: a static host as written, a lab machine by its index. */
function firstMasterAddress(provider: ProviderSpec, masters: { hosts: StaticHostSpec[] }, workers: number): string | undefined {
  if (provider.kind === 'static') {
    const h = masters.hosts[0];
    return h ? (h.privateAddress ?? (parseIPv4(h.address) !== undefined ? h.address : undefined)) : undefined;
  }
  if (provider.kind === 'lab') {
    const subnet = parseCidr(provider.subnet);
    // workers come first on the bridge, then the control-plane machines
    return subnet ? cidrAddress(subnet, labMachineAddressOffset + workers) : undefined;
  }
  return undefined;
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

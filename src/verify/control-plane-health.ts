// verify's control-plane checks (a spec with controlPlane:): each etcd member's health through
// the member API and its own client URL, each component's health on each master, and that the
// API endpoint balances across the masters. The component probe runs on the master itself (the
// controller-manager and scheduler listen on 127.0.0.1 only): the caller supplies it (over SSH).
import type { Cluster } from '../spec/cluster.ts';
import { controlPlaneHealthUrls } from '../spec/matrix.ts';
import { masterApiPort } from '../spec/control-plane-droplets.ts';
import { controlPlaneHosts, etcdMemberHosts, type Host } from '../spec/host.ts';
import { etcdPeerUrl } from '../render/etcd-member.ts';
import { etcdMemberHealth, type EtcdClusterAccess, type EtcdMemberHealth } from '../etcd/etcd-membership.ts';
import type { EtcdConnection } from '../etcd/etcd-store.ts';
import { checkEndpointBalance, type EndpointBalance } from './endpoint-balance.ts';

export type ControlPlaneComponent = ReturnType<typeof controlPlaneHealthUrls>[number]['component'];

/** What one health URL answered on a master (status 0: nothing answered; error says why). */
export interface HealthAnswer {
  url: string;
  status: number;
  body: string;
  error?: string | undefined;
}

/** Asks `urls` on `host` itself and returns one answer per URL, in order (src/run/control-plane-probe.ts: over SSH with curl). */
export type HostHealthProbe = (host: Host, urls: string[]) => Promise<HealthAnswer[]>;

export interface EtcdMemberRow {
  name: string;
  id: string;
  clientURL: string;
  healthy: boolean;
  /** in the spec (a host of etcd's), or a member the spec does not name */
  inSpec: boolean;
  detail: string;
}

export interface ComponentRow {
  host: string;
  component: ControlPlaneComponent;
  url: string;
  healthy: boolean;
  detail: string;
}

export interface ControlPlaneReport {
  etcd: { checked: boolean; ok: boolean; members: EtcdMemberRow[]; detail: string };
  components: ComponentRow[];
  endpoint: EndpointBalance & { server: string };
  problems: string[];
}

export interface ControlPlaneVerifyOptions {
  cluster: Cluster;
  hosts: readonly Host[];
  /** etcd's client URLs and kubewright's client certificate; undefined: the etcd check is skipped with a reason */
  etcd?: EtcdConnection | undefined;
  probe: HostHealthProbe;
  /** the cluster CA: the endpoint's and the masters' serving certificate chain to it */
  caPem: string;
  /** where each master serves the API directly (default: its address on 6443) */
  masterApiPort?: number | undefined;
}

const oneLine = (s: string, max = 160): string => s.replace(/\s+/g, ' ').trim().slice(0, max);

async function checkEtcd(cluster: Cluster, hosts: readonly Host[], conn: EtcdConnection | undefined): Promise<ControlPlaneReport['etcd']> {
  if (!conn) return { checked: false, ok: true, members: [], detail: 'skipped (no etcd connection)' };
  const access: EtcdClusterAccess = { tls: conn.tls, timeoutMs: conn.timeoutMs ?? 3000 };
  const health = await etcdMemberHealth(conn.endpoints, access);
  if (!health) return { checked: true, ok: false, members: [], detail: `no member answers the member list at ${conn.endpoints.join(', ')}` };
  const expected = etcdMemberHosts(cluster, hosts);
  // a member is the spec's host by its peer URL (its private address), or by name for a host whose address is not known here
  const isHost = (m: EtcdMemberHealth, h: Host): boolean => ((h.privateAddress ?? h.address) !== undefined ? m.peerURLs.includes(etcdPeerUrl(h)) : m.name === h.name);
  const members: EtcdMemberRow[] = health.map((m) => ({
    name: m.name || '(not started)',
    id: m.id,
    clientURL: m.clientURL ?? '-',
    healthy: m.healthy,
    inSpec: expected.some((h) => isHost(m, h)),
    detail: m.detail,
  }));
  const missing = expected.filter((h) => !health.some((m) => isHost(m, h)));
  for (const h of missing) {
    const why = (h.privateAddress ?? h.address) === undefined ? 'not a member, and the host has no address (not provisioned, or not running)' : `not a member (the cluster does not list ${etcdPeerUrl(h)})`;
    members.push({ name: h.name, id: '-', clientURL: '-', healthy: false, inSpec: true, detail: why });
  }
  const healthy = members.filter((m) => m.healthy).length;
  const ok = members.every((m) => m.healthy);
  return { checked: true, ok, members, detail: `${healthy}/${members.length} members healthy` };
}

async function checkComponents(cluster: Cluster, masters: readonly Host[], probe: HostHealthProbe, apiPort: number): Promise<ComponentRow[]> {
  const checks = controlPlaneHealthUrls(cluster.kubernetes.version, apiPort);
  const perHost = await Promise.all(masters.map(async (m): Promise<ComponentRow[]> => {
    let answers: HealthAnswer[];
    try {
      answers = await probe(m, checks.map((c) => c.url));
    } catch (e) {
      const why = `cannot ask the host: ${oneLine(e instanceof Error ? e.message : String(e))}`;
      return checks.map((c) => ({ host: m.name, component: c.component, url: c.url, healthy: false, detail: why }));
    }
    return checks.map((c, i) => {
      const a = answers[i];
      const healthy = a?.status === 200;
      const detail = !a ? 'no answer' : a.status === 0 ? `not answering: ${oneLine(a.error ?? a.body)}` : healthy ? `${new URL(c.url).pathname} ok` : `HTTP ${a.status}: ${oneLine(a.body)}`;
      return { host: m.name, component: c.component, url: c.url, healthy, detail };
    });
  }));
  return perHost.flat();
}

export async function verifyControlPlane(opts: ControlPlaneVerifyOptions): Promise<ControlPlaneReport> {
  const { cluster } = opts;
  const masters = controlPlaneHosts(opts.hosts);
  const apiPort = opts.masterApiPort ?? masterApiPort;
  const server = cluster.kubernetes.apiServer;
  const [etcd, components, endpoint] = await Promise.all([
    checkEtcd(cluster, opts.hosts, opts.etcd),
    checkComponents(cluster, masters, opts.probe, apiPort),
    checkEndpointBalance(new URL(server), masters.flatMap((m) => (m.address ? [{ name: m.name, host: m.address, port: apiPort }] : [])), opts.caPem),
  ]);
  const problems: string[] = [];
  if (!etcd.ok) problems.push(`etcd: ${etcd.detail}`);
  for (const m of etcd.members.filter((x) => !x.healthy)) problems.push(`etcd member ${m.name}: ${m.detail}`);
  for (const c of components.filter((x) => !x.healthy)) problems.push(`${c.host}: ${c.component}: ${c.detail}`);
  if (!endpoint.ok) problems.push(`endpoint ${server}: ${endpoint.detail}`);
  return { etcd, components, endpoint: { ...endpoint, server }, problems };
}

// `verify`: is the cluster what the spec says? API healthy, every worker registered and Ready
// with the expected kubelet version, the DNS Deployment available and its Service at clusterDNS,
// flannel leases for every node. Returns a report; `verifyUntil` polls it (bounded).
import { CoreV1Api, KubernetesObjectApi, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { LeaseMapping } from '../etcd/flannel-leases.ts';
import type { Host } from '../spec/host.ts';
import type { Cluster } from '../spec/cluster.ts';
import { dnsDeploymentApiVersion, readyzSupported } from '../spec/matrix.ts';
import { describeApiError, getRaw, isNotFound, unreachableCode } from './kube-client.ts';
import { nodeRows, type NodeRow } from './node-status.ts';
import { nodeName } from '../spec/node-name.ts';
import { workerHosts } from '../spec/host.ts';
import { verifyControlPlane, type ControlPlaneReport, type ControlPlaneVerifyOptions } from './control-plane-health.ts';

export interface ComponentStatusRow {
  name: string;
  healthy: boolean;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** unreachable: the network error when nothing answered at the server's address (refused, DNS, no route) */
  api: { ok: boolean; server: string; detail: string; unreachable?: string | undefined; componentStatuses?: ComponentStatusRow[] | undefined };
  nodes: NodeRow[];
  /** registered nodes the spec does not list (shown, not a failure) */
  otherNodes: string[];
  dns: { ok: boolean; detail: string };
  flannel: { ok: boolean; checked: boolean; detail: string };
  /** with a controlPlane section: etcd members, components per master, the endpoint's balancing */
  controlPlane?: ControlPlaneReport | undefined;
  problems: string[];
}

export interface VerifyOptions {
  cluster: Cluster;
  hosts: Host[];
  kubeConfig: KubeConfig;
  /** flannel's leases mapped to the hosts (src/etcd); when absent the check is reported as skipped */
  flannelLeases?: ((hosts: Host[]) => Promise<LeaseMapping>) | undefined;
  /** the control plane's checks (a spec with controlPlane:); the cluster and hosts are this call's */
  controlPlane?: Omit<ControlPlaneVerifyOptions, 'cluster' | 'hosts'> | undefined;
  now?: () => Date;
}

/** The DNS Deployment verify reads: the name and apiVersion render wrote it with (spec/matrix.ts). */
export function expectedDnsDeployment(cluster: Cluster): { apiVersion: string; name: string } {
  return { apiVersion: dnsDeploymentApiVersion(cluster.dns, cluster.kubernetes.version), name: dnsDeploymentName(cluster) };
}

/** The DNS Deployment each profile installs; the Service is named kube-dns either way. */
export function dnsDeploymentName(cluster: Cluster): string {
  return cluster.dns === 'coredns' ? 'coredns' : 'kube-dns';
}

export async function verifyCluster(opts: VerifyOptions): Promise<VerifyReport> {
  const { cluster, kubeConfig: kc } = opts;
  const now = (opts.now ?? (() => new Date()))();
  const problems: string[] = [];
  const server = kc.getCurrentCluster()?.server ?? cluster.kubernetes.apiServer;
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);

  // /readyz exists from Kubernetes 1.16; the post's 1.8 answers /healthz and `kubectl get cs`
  const modernHealth = readyzSupported(cluster.kubernetes.version);
  const api: VerifyReport['api'] = { ok: false, server, detail: '' };
  try {
    const path = modernHealth ? '/readyz?verbose' : '/healthz';
    const r = await getRaw(kc, path);
    const failed = r.body.split('\n').filter((l) => l.startsWith('[-]')).map((l) => l.slice(3));
    api.ok = r.status === 200;
    api.detail = api.ok ? `${path.split('?')[0]} ok${modernHealth ? ` (${r.body.split('\n').filter((l) => l.startsWith('[+]')).length} checks passed)` : ''}` : `${path.split('?')[0]} HTTP ${r.status}${failed.length ? `: ${failed.join(', ')}` : `: ${r.body.trim().slice(0, 200)}`}`;
  } catch (e) {
    api.detail = `unreachable: ${describeApiError(e)}`;
    api.unreachable = unreachableCode(e);
  }
  if (!api.ok) problems.push(`API ${server}: ${api.detail}`);

  if (cluster.profile === 'seed' && api.ok) {
    try {
      const cs = await core.listComponentStatus();
      api.componentStatuses = cs.items.map((c) => {
        const h = c.conditions?.find((x) => x.type === 'Healthy');
        return { name: c.metadata?.name ?? '?', healthy: h?.status === 'True', message: h?.message ?? h?.error ?? '' };
      });
      for (const c of api.componentStatuses.filter((x) => !x.healthy)) problems.push(`componentstatus ${c.name}: Unhealthy ${c.message}`);
    } catch (e) {
      problems.push(`componentstatuses: ${describeApiError(e)}`);
    }
  }

  // masters and etcd hosts run no kubelet: only the workers register Nodes
  const workers = workerHosts(opts.hosts);
  const expected = workers.map((h) => nodeName(cluster, h));
  let nodes: NodeRow[] = expected.map((name) => ({ name, status: 'Missing', age: '-', version: '-', problem: 'API unreachable' }));
  let otherNodes: string[] = [];
  if (api.ok) {
    try {
      const list = await core.listNode();
      nodes = nodeRows(expected, list.items, cluster.kubernetes.version, now);
      otherNodes = list.items.map((n) => n.metadata?.name ?? '').filter((n) => n && !expected.includes(n));
    } catch (e) {
      nodes = nodes.map((n) => ({ ...n, problem: `listing nodes failed: ${describeApiError(e)}` }));
    }
  }
  for (const n of nodes) if (n.problem) problems.push(`${n.name}: ${n.problem}`);

  const dns = api.ok ? await checkDns(cluster, core, objects) : { ok: false, detail: 'not checked: API unreachable' };
  if (!dns.ok) problems.push(`DNS: ${dns.detail}`);

  let flannel: VerifyReport['flannel'] = { ok: true, checked: false, detail: 'skipped (no etcd connection given)' };
  if (opts.flannelLeases) {
    try {
      const m = await opts.flannelLeases(workers);
      const missing = m.nodesWithoutLease.map((h) => h.name);
      flannel = {
        ok: missing.length === 0,
        checked: true,
        detail: missing.length === 0
          ? `${m.assigned.length} leases: ${m.assigned.map((a) => `${a.host.name} ${a.lease.subnet}`).join(', ')}`
          : `no lease under ${cluster.etcd.prefix}/subnets for ${missing.join(', ')} (is flanneld running there?)`,
      };
    } catch (e) {
      flannel = { ok: false, checked: true, detail: `reading leases failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!flannel.ok) problems.push(`flannel: ${flannel.detail}`);
  }

  let controlPlane: ControlPlaneReport | undefined;
  if (opts.controlPlane && cluster.controlPlane) {
    controlPlane = await verifyControlPlane({ ...opts.controlPlane, cluster, hosts: opts.hosts });
    problems.push(...controlPlane.problems);
  }

  return { ok: problems.length === 0, api, nodes, otherNodes, dns, flannel, ...(controlPlane ? { controlPlane } : {}), problems };
}

async function checkDns(cluster: Cluster, core: CoreV1Api, objects: KubernetesObjectApi): Promise<{ ok: boolean; detail: string }> {
  const name = dnsDeploymentName(cluster);
  const problems: string[] = [];
  let deployment = '';
  try {
    const d = (await objects.read({ apiVersion: expectedDnsDeployment(cluster).apiVersion, kind: 'Deployment', metadata: { name, namespace: 'kube-system' } })) as V1Deployment;
    const want = d.spec?.replicas ?? 1;
    const available = d.status?.availableReplicas ?? 0;
    const cond = d.status?.conditions?.find((c) => c.type === 'Available');
    deployment = `deployment kube-system/${name} ${available}/${want} available`;
    if (available < 1 || cond?.status === 'False') problems.push(`${deployment}${cond?.message ? ` (${cond.message})` : ''}`);
  } catch (e) {
    problems.push(isNotFound(e) ? `deployment kube-system/${name} is missing (the DNS addon is not installed)` : `deployment kube-system/${name}: ${describeApiError(e)}`);
  }
  let service = '';
  try {
    const s = await core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    service = `service kube-dns at ${s.spec?.clusterIP ?? '?'}`;
    if (s.spec?.clusterIP !== cluster.kubernetes.clusterDNS) problems.push(`service kube-system/kube-dns has clusterIP ${s.spec?.clusterIP ?? 'none'}, expected clusterDNS ${cluster.kubernetes.clusterDNS}`);
  } catch (e) {
    problems.push(isNotFound(e) ? 'service kube-system/kube-dns is missing' : `service kube-system/kube-dns: ${describeApiError(e)}`);
  }
  if (problems.length > 0) return { ok: false, detail: problems.join('; ') };
  return { ok: true, detail: `${deployment}, ${service}` };
}

/** Runs verify until it passes or `waitMs` is over (bounded: at least one run, then every intervalMs). */
export async function verifyUntil(run: () => Promise<VerifyReport>, waitMs: number, intervalMs = 2000, onAttempt?: (r: VerifyReport) => void): Promise<VerifyReport> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const report = await run();
    onAttempt?.(report);
    if (report.ok || Date.now() + intervalMs > deadline) return report;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

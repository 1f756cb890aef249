// Step 4 (with a controlPlane section): the API servers. Each master's rendered part (the three
// units, their certificates, kubeconfigs and config files, the binaries) is applied — on stacked
// masters the etcd-cluster step applied it already, joined with the etcd member, because apply
// prunes what a host's desired state does not list — then every master and the endpoint must
// answer /readyz (anonymous, TLS verified by the cluster CA), and the RBAC that lets
// kube-apiserver reach the kubelet API goes in through the API.
//
// Masters start all at once on the first `up` (nothing is serving yet, and stacked etcd members
// must start together to form a quorum); a later change that restarts running API servers goes
// one master at a time, each answering /readyz before the next (on stacked masters, each etcd
// member back in the quorum too), so the endpoint keeps a master serving.
import { applyManifests, type AppliedObject } from '../../addons/apply-dns-addon.ts';
import { KubewrightError } from '../../errors.ts';
import { composeHost } from '../../render/control-plane/compose-host.ts';
import { controlPlaneRenderInput } from '../../render/control-plane/input.ts';
import { API_SERVER_PORT } from '../../render/control-plane/paths.ts';
import { renderControlPlane } from '../../render/control-plane/render-control-plane.ts';
import { controlPlaneBinariesFor } from '../../render/release-binaries.ts';
import type { RenderedFile } from '../../render/types.ts';
import { unitName } from '../../render/unit-file.ts';
import { controlPlaneHosts, type Host } from '../../spec/host.ts';
import { readyzSupported } from '../../spec/matrix.ts';
import { waitForApiServersReady, type ApiServerTarget } from '../../verify/api-server-ready.ts';
import { adminKubeConfig } from '../../verify/kube-client.ts';
import type { PreparedRun } from '../prepare-run.ts';
import { runHosts, type HostEvent, type HostOutcome, type HostTarget, type RunOptions } from '../run-hosts.ts';
import { preparedRun } from './prepared-run.ts';
import type { UpContext, UpPhase } from './up-phase.ts';

export const noControlPlane = 'no controlPlane section: the control plane is the existing one (kubernetes.apiServer)';

/** Each master's part as apply takes it (by host name), and the cluster-wide RBAC manifest. */
export function masterTargets(ctx: UpContext, prepared: Pick<PreparedRun, 'kubernetesVersion'>): { targets: Map<string, HostTarget>; clusterFiles: RenderedFile[] } {
  const cluster = ctx.cluster;
  const hosts = ctx.need('hosts');
  const credentials = ctx.need('pki').controlPlane;
  if (!credentials) throw new KubewrightError('control plane: the PKI step made no control-plane certificates', { hint: 'this is a kubewright bug: the PKI includes them whenever the spec has a controlPlane section' });
  const kubernetesVersion = prepared.kubernetesVersion;
  const rendered = renderControlPlane(controlPlaneRenderInput(cluster, hosts, { credentials, kubernetesVersion }));
  const targets = new Map<string, HostTarget>();
  for (const host of controlPlaneHosts(hosts)) {
    const desired = rendered.hosts.get(host.name)!;
    targets.set(host.name, { host, desired, binariesFor: (arch) => controlPlaneBinariesFor(cluster, { arch, kubernetesVersion, unresolved: 'throw' }) });
  }
  return { targets, clusterFiles: rendered.cluster };
}

/** A stacked master's etcd member joined with its API-server part: one desired state, both binary sets. */
export function withMaster(etcd: HostTarget, master: HostTarget | undefined): HostTarget {
  if (!master) return etcd;
  return {
    host: etcd.host,
    desired: composeHost(etcd.desired, master.desired),
    binariesFor: (arch) => [...(etcd.binariesFor?.(arch) ?? etcd.desired.binaries), ...(master.binariesFor?.(arch) ?? master.desired.binaries)],
  };
}

/** Where this machine reaches a master's kube-apiserver: the address SSH uses (a SAN of the serving certificate). */
function masterUrl(h: Host): string {
  return `https://${h.address ?? h.privateAddress ?? h.name}:${API_SERVER_PORT}`;
}

/** The health path of the cluster's version: /readyz from 1.16, /healthz before. */
function healthPath(ctx: UpContext): string {
  return readyzSupported(ctx.cluster.kubernetes.version) ? '/readyz' : '/healthz';
}

/** Waits until one master's kube-apiserver answers ready (after its change restarted it, before the next master's). */
export function masterReady(ctx: UpContext): (h: Host) => Promise<void> {
  return (h) => waitForApiServersReady([{ name: h.name, url: masterUrl(h) }], { caPem: ctx.need('pki').credentials.caPem, path: healthPath(ctx), deadlineMs: ctx.opts.controlPlaneReadyTimeoutMs });
}

/** Masters whose change restarts their API servers go one at a time, each answering ready before the next. */
function rollingMasters(ctx: UpContext, targets: readonly HostTarget[]): Pick<RunOptions, 'maxUnavailable' | 'disruptiveUnits' | 'nodeCycle'> {
  const ready = masterReady(ctx);
  return {
    maxUnavailable: 1,
    disruptiveUnits: new Set(targets.flatMap((t) => t.desired.units.map((u) => unitName(u.name)))),
    nodeCycle: { waitingFor: `its kube-apiserver to answer ${healthPath(ctx)}`, takeOut: async (h) => async () => ready(h) },
  };
}

export const controlPlane: UpPhase = {
  name: 'control-plane',
  title: 'kube-apiserver, controller-manager, scheduler on the masters; waits for /readyz',
  plan: (ctx) => {
    const cp = ctx.cluster.controlPlane;
    if (!cp) return { skip: noControlPlane };
    return { run: `${cp.count} master(s), then ${healthPath(ctx)} on each and at the endpoint` };
  },
  async run(ctx, say) {
    const { cluster, opts } = ctx;
    const cp = cluster.controlPlane!;
    const prepared = await preparedRun(ctx);
    const etcd = ctx.need('etcdCluster');
    const { targets, clusterFiles } = masterTargets(ctx, prepared);
    let statuses: { name: string; status: HostOutcome['status'] }[];
    if (cp.etcd.placement === 'stacked' && etcd) {
      // applied with their etcd members by the etcd-cluster step
      statuses = etcd.members.filter((m) => targets.has(m.name));
    } else {
      const outcomes = await runHosts([...targets.values()], {
        mode: 'apply', parallel: targets.size, binaries: prepared.store, connect: prepared.connect, ...rollingMasters(ctx, [...targets.values()]),
        waitActiveTimeoutSec: opts.waitActiveTimeoutSec ?? 90, ...(opts.onHostEvent ? { onEvent: (e: HostEvent) => opts.onHostEvent?.(e, 'control-plane') } : {}),
      });
      statuses = outcomes.map((o) => ({ name: o.host, status: o.status }));
      const failed = outcomes.find((o) => o.status === 'failed');
      if (failed) {
        throw new KubewrightError(`control plane ${failed.host}: ${failed.error instanceof Error ? failed.error.message : String(failed.error)}`, {
          host: failed.host, hint: 'see `journalctl -u kube-apiserver` on the host; fix the cause and re-run `kubewright up` (finished steps are no-ops)',
        });
      }
    }
    recordStatuses(ctx, statuses);
    const path = healthPath(ctx);
    const waitFor: ApiServerTarget[] = [...[...targets.values()].map((t) => ({ name: t.host.name, url: masterUrl(t.host) })), { name: 'endpoint', url: cluster.kubernetes.apiServer }];
    say(`waiting for ${path} on ${waitFor.map((t) => t.name).join(', ')}`);
    const pki = ctx.need('pki');
    await waitForApiServersReady(waitFor, { caPem: pki.credentials.caPem, path, deadlineMs: opts.controlPlaneReadyTimeoutMs });
    const rbac: AppliedObject[] = await applyManifests(adminKubeConfig(cluster.kubernetes.apiServer, pki.credentials.caPem, pki.admin), clusterFiles, 'control plane RBAC');
    ctx.result.controlPlane = { endpoint: cluster.kubernetes.apiServer, masters: statuses, rbac };
    const changed = statuses.filter((s) => s.status === 'changed').length;
    const rbacChanged = rbac.filter((o) => o.action !== 'unchanged').length;
    return `${changed === 0 ? `${statuses.length} master(s) unchanged` : `${changed} of ${statuses.length} master(s) changed`}, ${path} ok on each and at ${cluster.kubernetes.apiServer}; RBAC: ${rbacChanged === 0 ? `${rbac.length} objects unchanged` : `${rbacChanged} of ${rbac.length} created or configured`}`;
  },
};

/** The hosts' line in `up`'s result: what the control-plane steps did on them. */
export function recordStatuses(ctx: UpContext, statuses: readonly { name: string; status: HostOutcome['status'] }[]): void {
  const byName = new Map(statuses.map((s) => [s.name, s.status]));
  ctx.result.hosts = ctx.result.hosts.map((h) => (byName.has(h.name) ? { ...h, status: byName.get(h.name)! } : h));
}

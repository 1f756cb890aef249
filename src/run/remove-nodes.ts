// Taking retired hosts out of the cluster (`up --prune`), one host at a time, in this order:
// cordon → drain (Eviction API, PodDisruptionBudgets honoured) → reset the host (kubewright's
// units stopped, its files removed) → delete the Node object → delete its flannel lease →
// destroy the droplet (DigitalOcean) or forget the host (static). The host is reset before its
// Node and lease are deleted so that no running kubelet or flanneld writes them back. Every step
// is planned from what exists now, so a re-run after a failure continues where it stopped: a
// cordoned node is not cordoned again, a reset host has no manifest left, a deleted Node has no
// steps. The first failure stops the removal; nothing after it runs (no droplet is destroyed
// while its pods are still there).
// A host that runs a member of the control plane's etcd (a master with stacked etcd, or an etcd
// host: found in etcd's member list by its name or peer URL) first leaves etcd through MemberRemove,
// before its reset stops etcd there, and never when the members left would lose quorum
// (removeEtcdMember refuses, and the removal stops with nothing reset or released).
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { KubewrightError } from '../errors.ts';
import type { EtcdConnection } from '../etcd/etcd-store.ts';
import { listEtcdMembers, removeEtcdMember } from '../etcd/etcd-membership.ts';
import { etcdPeerUrl } from '../render/etcd-member.ts';
import type { Executor } from '../exec/executor.ts';
import { applyReset, planReset } from '../phases/reset-host.ts';
import type { Provider } from '../providers/provider.ts';
import type { Cluster } from '../spec/cluster.ts';
import { connectHost, sshOptionsFor } from './connect.ts';
import type { Host } from '../spec/host.ts';
import { nodeName } from '../spec/node-name.ts';
import { describeApiError, isNotFound } from '../verify/kube-client.ts';
import { cordonNode, drainNode, planPodEviction, type DrainEvent } from './drain-node.ts';
import { planForget } from './forget-nodes.ts';

export type RemovalStepKind = 'cordon' | 'drain' | 'etcd-remove' | 'reset' | 'delete-node' | 'delete-lease' | 'release';

export interface RemovalStep {
  host: string;
  kind: RemovalStepKind;
  /** one line for `plan` and progress: `drain Node w3: evict default/web-1; skip kube-system/flannel-x (DaemonSet)` */
  summary: string;
  run(): Promise<string>;
}

export interface RemovalAccess {
  kubeConfig: () => Promise<KubeConfig>;
  /** etcd, when the spec has etcd.discovery (flannel leases) */
  etcd?: (() => Promise<EtcdConnection>) | undefined;
  /** an SSH connection to a retired host; a host that cannot be reached is not reset (a warning) */
  connect: (h: Host) => Promise<Executor>;
  /** destroys (DigitalOcean), removes (lab) or forgets (static, Terraform) the hosts; `releaseSummary` says which, e.g. `destroy droplet` */
  release: (hosts: readonly Host[]) => Promise<string[]>;
  releaseSummary: string;
}

export interface RemovalOptions {
  drainTimeoutMs: number;
  /** drain pods no controller manages too */
  force?: boolean | undefined;
  /** between eviction attempts a budget refused (default 5 s) */
  retryIntervalMs?: number | undefined;
  onDrainEvent?: ((e: DrainEvent) => void) | undefined;
}

export interface RemovalPlan {
  hosts: string[];
  steps: RemovalStep[];
  /** what could not be looked at (a host not reachable over SSH, etcd unreachable) */
  warnings: string[];
  /** closes the SSH connections the plan opened */
  close(): Promise<void>;
}

/** Looks at each retired host (its Node and pods, its manifest, its lease); changes nothing. */
export async function planRemoval(cluster: Cluster, hosts: readonly Host[], access: RemovalAccess | undefined, opts: RemovalOptions): Promise<RemovalPlan> {
  const steps: RemovalStep[] = [];
  const warnings: string[] = [];
  const conns: Executor[] = [];
  const close = async (): Promise<void> => {
    for (const x of conns) await x.close().catch(() => undefined);
  };
  if (hosts.length === 0 || !access) return { hosts: [], steps, warnings, close };
  try {
    const kc = await access.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    // the control plane's etcd: which retired hosts are members of it
    const etcd = cluster.controlPlane && access.etcd ? await access.etcd() : undefined;
    const members = etcd ? await listEtcdMembers(etcd.endpoints, { tls: etcd.tls }) : undefined;
    if (etcd && !members) warnings.push(`etcd: no member answers at ${etcd.endpoints.join(', ')}: retired hosts that run etcd members cannot leave etcd now (the removal of such a host stops at its reset)`);
    for (const h of hosts) {
      const name = nodeName(cluster, h);
      const step = (kind: RemovalStepKind, summary: string, run: () => Promise<string>): void => {
        steps.push({ host: h.name, kind, summary, run });
      };
      const node = await readNodeOrUndefined(core, name);
      if (node) {
        if (node.spec?.unschedulable !== true) {
          // drainNode cordons too; a step of its own shows in `plan` and is where a re-run resumes
          step('cordon', `cordon Node ${name}`, async () => ((await cordonNode(kc, name)) ? `cordoned Node ${name}` : `Node ${name} was already cordoned`));
        }
        const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` }).catch((e: unknown) => {
          throw apiError(`listing the pods on Node ${name}`, e);
        })).items.map((p) => planPodEviction(p, opts.force ?? false));
        const list = (kind: string): string => pods.filter((p) => p.action === kind).map((p) => p.pod).join(', ');
        const parts = [
          pods.some((p) => p.action === 'evict') ? `evict ${list('evict')}` : 'no pod to evict',
          ...(pods.some((p) => p.action === 'skip') ? [`skip ${list('skip')} (DaemonSet or mirror pods)`] : []),
          ...(pods.some((p) => p.action === 'refuse') ? [`refuse ${list('refuse')} (no controller; --force-drain evicts them)`] : []),
        ];
        step('drain', `drain Node ${name}: ${parts.join('; ')}`, async () => {
          const r = await drainNode(kc, name, { timeoutMs: opts.drainTimeoutMs, force: opts.force, forceFlag: '--force-drain', retryIntervalMs: opts.retryIntervalMs, onEvent: opts.onDrainEvent });
          return `drained Node ${name}: ${r.evicted.length} pod(s) evicted, ${r.skipped.length} skipped`;
        });
      }
      const member = members?.find((m) => m.name === h.name || ((h.privateAddress ?? h.address) !== undefined && m.peerURLs.includes(etcdPeerUrl(h))));
      if (etcd && member) {
        const peer = member.peerURLs[0] ?? '';
        step('etcd-remove', `remove etcd member ${member.name || member.id} (${peer}) through the member API, if the rest keep a quorum`, async () => {
          const r = await removeEtcdMember(etcd.endpoints, peer, { tls: etcd.tls });
          return r.removed ? `etcd member ${member.name || member.id} removed` : `etcd member ${member.name || member.id} was already removed`;
        });
      }
      let x: Executor | undefined;
      try {
        x = await access.connect(h);
        conns.push(x);
      } catch (e) {
        warnings.push(`${h.name}: not reset: cannot connect over SSH (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); kubewright's units and files stay on it`);
      }
      if (x) {
        const reset = await planReset(x);
        const conn = x;
        if (reset.steps.length > 0) {
          step('reset', `reset ${h.name}: ${reset.steps.length} step(s): ${reset.steps.map((s) => s.summary).join('; ')}`, async () => `reset ${h.name} (${await applyReset(conn, reset)} step(s))`);
        }
      }
      const forget = await planForget(cluster, [h], { kubeConfig: async () => kc, etcd: access.etcd });
      warnings.push(...forget.warnings);
      for (const f of forget.steps) step(f.summary.startsWith('delete Node') ? 'delete-node' : 'delete-lease', f.summary, () => f.run());
      step('release', `${access.releaseSummary} ${h.name}`, async () => `${access.releaseSummary} ${h.name}: done (${(await access.release([h])).join(', ')})`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { hosts: hosts.map((h) => h.name), steps, warnings, close };
}

/**
 * The removal plan of the provider's retired hosts, with SSH from the spec's ssh settings; an
 * empty plan when none left the spec. Terraform's hosts are forgotten, never destroyed: the plan
 * warns that their droplets stay Terraform's.
 */
export async function planRetiredHostRemoval(
  cluster: Cluster,
  provider: Provider,
  access: { kubeConfig: () => Promise<KubeConfig>; etcd?: (() => Promise<EtcdConnection>) | undefined },
  opts: RemovalOptions,
): Promise<RemovalPlan> {
  const retired = provider.retired ? await provider.retired() : [];
  if (retired.length === 0 || !provider.release) return planRemoval(cluster, [], undefined, opts);
  const ssh = await sshOptionsFor(cluster, false);
  const plan = await planRemoval(cluster, retired, {
    ...access,
    connect: (h) => connectHost(h, { ...ssh, recordNewHostKeys: false }),
    release: provider.release.bind(provider),
    releaseSummary: { digitalocean: 'destroy droplet', lab: 'remove lab machine', static: 'forget host', terraform: 'forget host' }[provider.kind],
  }, opts);
  if (provider.kind === 'terraform') {
    plan.warnings.push(`${retired.map((h) => h.name).join(', ')}: left the Terraform output; kubewright drains, resets and forgets ${retired.length === 1 ? 'it' : 'them'} but does not destroy Terraform's droplets (terraform apply / destroy does)`);
  }
  return plan;
}

/** Runs the steps in order; the first failure stops the removal (later steps, later hosts). */
export async function runRemoval(plan: RemovalPlan, onStep?: (s: RemovalStep, result: string) => void): Promise<string[]> {
  const done: string[] = [];
  for (const s of plan.steps) {
    let result: string;
    try {
      result = await s.run();
    } catch (e) {
      const why = e instanceof KubewrightError ? e.describe() : e instanceof Error ? e.message : String(e);
      throw new KubewrightError(`removing ${s.host}: ${s.kind} failed: ${why}`, {
        host: s.host,
        cause: e,
        hint: `nothing after this step ran; fix the cause and re-run \`kubewright up --prune\`: it continues from what is left (${done.length} step(s) done)`,
      });
    }
    done.push(result);
    onStep?.(s, result);
  }
  return done;
}

async function readNodeOrUndefined(core: CoreV1Api, name: string): Promise<V1Node | undefined> {
  try {
    return await core.readNode({ name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw apiError(`looking up Node ${name}`, e);
  }
}

function apiError(what: string, e: unknown): KubewrightError {
  return new KubewrightError(`Kubernetes API: ${what} failed: ${describeApiError(e).split('\n')[0] ?? ''}`, {
    cause: e,
    hint: 'a node is drained through the API before it is removed: make the API server reachable (or pass --kubeconfig) and re-run; nothing was removed',
  });
}

// Cordon and drain a node through the Kubernetes API, as `kubectl drain --ignore-daemonsets
// --delete-emptydir-data` does (k8s.io/kubectl/pkg/drain): mirror pods and DaemonSet pods are
// skipped (their controllers would put them straight back), pods without a controller are refused
// unless `force` (nothing would recreate them), every other pod goes through the Eviction API
// (policy/v1), which honours PodDisruptionBudgets: a 429 means a budget forbids the eviction now,
// so it is retried until the deadline. Then the drain waits until the evicted pods are gone.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubewrightError } from '../errors.ts';
import { describeApiError, isNotFound } from '../verify/kube-client.ts';

export interface DrainEvent {
  node: string;
  /** `namespace/name` of the pod concerned, if any */
  pod?: string | undefined;
  kind: 'cordoned' | 'skipped' | 'evicting' | 'blocked' | 'evicted' | 'gone';
  message: string;
}

export interface DrainOptions {
  /** the whole drain (evictions and waiting for pods to go) gives up after this long */
  timeoutMs: number;
  /** evict pods that no controller manages too (they will not come back anywhere) */
  force?: boolean | undefined;
  /** the command's flag that sets `force`, named when unmanaged pods are refused (default --force) */
  forceFlag?: string | undefined;
  /** wait between eviction attempts a budget refused (kubectl: 5 s) */
  retryIntervalMs?: number | undefined;
  /** wait between checks that an evicted pod is gone (default 1 s) */
  pollIntervalMs?: number | undefined;
  onEvent?: ((e: DrainEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DrainResult {
  node: string;
  /** false: the node was already cordoned */
  cordoned: boolean;
  /** `namespace/name` of each evicted pod */
  evicted: string[];
  /** pods left on the node, with why */
  skipped: { pod: string; reason: string }[];
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Marks the node unschedulable; true when it changed. Throws naming the node when it does not exist. */
export async function cordonNode(kc: KubeConfig, node: string): Promise<boolean> {
  return setUnschedulable(kc.makeApiClient(CoreV1Api), node, true);
}

/** Makes the node schedulable again; true when it changed. */
export async function uncordonNode(kc: KubeConfig, node: string): Promise<boolean> {
  return setUnschedulable(kc.makeApiClient(CoreV1Api), node, false);
}

async function setUnschedulable(core: CoreV1Api, node: string, unschedulable: boolean): Promise<boolean> {
  let current: boolean;
  try {
    current = (await core.readNode({ name: node })).spec?.unschedulable === true;
  } catch (e) {
    if (isNotFound(e)) throw new KubewrightError(`Node ${node} not found in the Kubernetes API`, { host: node, hint: 'check the name with `kubectl get nodes`' });
    throw new KubewrightError(`${unschedulable ? 'cordon' : 'uncordon'} ${node}: ${describeApiError(e)}`, { host: node, cause: e });
  }
  if (current === unschedulable) return false;
  // null removes the field, as `kubectl uncordon` leaves it
  await core.patchNode({ name: node, body: { spec: { unschedulable: unschedulable ? true : null } } }, mergePatch);
  return true;
}

type PodPlan = { pod: string; uid: string | undefined; action: 'evict' } | { pod: string; action: 'skip'; reason: string } | { pod: string; action: 'refuse'; reason: string };

/** What kubectl drain's filters decide for one pod (with --ignore-daemonsets --delete-emptydir-data). */
export function planPodEviction(p: V1Pod, force: boolean): PodPlan {
  const pod = `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;
  if (p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return { pod, action: 'skip', reason: 'mirror pod of a static pod (the kubelet owns it)' };
  const controller = p.metadata?.ownerReferences?.find((o) => o.controller === true);
  if (controller?.kind === 'DaemonSet') return { pod, action: 'skip', reason: `managed by DaemonSet ${controller.name}` };
  const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  if (!controller && !finished && !force) return { pod, action: 'refuse', reason: 'no controller would recreate it' };
  return { pod, uid: p.metadata?.uid, action: 'evict' };
}

/**
 * Cordons `node`, then evicts its pods and waits until they are gone, within `timeoutMs`.
 * Throws before evicting anything when an unmanaged pod is on the node and `force` is not set;
 * throws at the deadline naming each pod still there and the budget that holds it.
 * The node stays cordoned when the drain fails: re-running continues, `uncordonNode` undoes it.
 */
export async function drainNode(kc: KubeConfig, node: string, opts: DrainOptions): Promise<DrainResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const emit = (kind: DrainEvent['kind'], message: string, pod?: string): void => opts.onEvent?.({ node, pod, kind, message });
  const deadline = Date.now() + opts.timeoutMs;
  const timeoutText = describeMs(opts.timeoutMs);

  const cordoned = await setUnschedulable(core, node, true);
  emit('cordoned', cordoned ? `${node} cordoned` : `${node} was already cordoned`);

  let pods: V1Pod[];
  try {
    pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
  } catch (e) {
    throw new KubewrightError(`drain ${node}: listing its pods failed: ${describeApiError(e)}`, { host: node, cause: e });
  }
  const plans = pods.map((p) => planPodEviction(p, opts.force ?? false));
  const refused = plans.filter((p) => p.action === 'refuse');
  if (refused.length > 0) {
    throw new KubewrightError(`drain ${node}: ${refused.length} pod(s) have no controller and would be lost: ${refused.map((p) => p.pod).join(', ')}`, {
      host: node,
      hint: `move or delete them yourself, or re-run with ${opts.forceFlag ?? '--force'} to delete them with the node`,
    });
  }
  const skipped = plans.flatMap((p) => (p.action === 'skip' ? [{ pod: p.pod, reason: p.reason }] : []));
  for (const s of skipped) emit('skipped', `${s.pod} skipped: ${s.reason}`, s.pod);

  const toEvict = plans.flatMap((p) => (p.action === 'evict' ? [p] : []));
  const blockedBy = new Map<string, string>();
  const gone = new Set<string>();
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const wait = async (ms: number): Promise<boolean> => {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    try {
      await sleep(Math.min(ms, left), undefined, { signal });
    } catch {
      return false;
    }
    return Date.now() < deadline;
  };

  const evictOne = async (p: { pod: string; uid: string | undefined }): Promise<void> => {
    const [namespace = 'default', name = ''] = p.pod.split('/');
    emit('evicting', `evicting ${p.pod}`, p.pod);
    for (;;) {
      try {
        await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
        blockedBy.delete(p.pod);
        emit('evicted', `${p.pod} evicted`, p.pod);
        break;
      } catch (e) {
        if (isNotFound(e)) break;
        if ((e as { code?: number }).code !== 429) {
          throw new KubewrightError(`drain ${node}: evicting ${p.pod} failed: ${describeApiError(e)}`, { host: node, cause: e });
        }
        const why = budgetRefusal(e);
        if (blockedBy.get(p.pod) !== why) emit('blocked', `${p.pod} not evicted yet: ${why}; retrying until the drain timeout`, p.pod);
        blockedBy.set(p.pod, why);
        if (!(await wait(opts.retryIntervalMs ?? 5000))) return;
      }
    }
    // evicted: the pod terminates with its grace period; gone means 404 or a new pod under the same name
    for (;;) {
      try {
        const now = await core.readNamespacedPod({ name, namespace });
        if (p.uid !== undefined && now.metadata?.uid !== p.uid) break;
      } catch (e) {
        if (isNotFound(e)) break;
        throw new KubewrightError(`drain ${node}: checking that ${p.pod} is gone failed: ${describeApiError(e)}`, { host: node, cause: e });
      }
      if (!(await wait(opts.pollIntervalMs ?? 1000))) {
        blockedBy.set(p.pod, 'evicted but still terminating');
        return;
      }
    }
    emit('gone', `${p.pod} gone`, p.pod);
    gone.add(p.pod);
  };

  const settled = await Promise.allSettled(
    toEvict.map((p) =>
      evictOne(p).catch((e: unknown) => {
        stop.abort();
        throw e;
      }),
    ),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  if (opts.signal?.aborted) throw new KubewrightError(`drain ${node}: interrupted`, { host: node, hint: 're-run to continue: the node stays cordoned' });
  const left = toEvict.filter((p) => !gone.has(p.pod));
  if (left.length > 0) {
    const budgets = [...new Set(left.flatMap((p) => budgetName(blockedBy.get(p.pod) ?? '', p.pod)))];
    throw new KubewrightError(
      `drain ${node}: ${left.length} pod(s) still on the node after ${timeoutText}: ${left.map((p) => `${p.pod} (${blockedBy.get(p.pod) ?? 'not evicted'})`).join('; ')}`,
      {
        host: node,
        hint: budgets.length > 0
          ? `PodDisruptionBudget ${budgets.join(', ')} allows no disruption now: scale the workload up or relax the budget, or give the drain longer (--drain-timeout); ${node} stays cordoned (\`kubectl uncordon ${node}\` undoes it)`
          : `give the drain longer (--drain-timeout); ${node} stays cordoned (\`kubectl uncordon ${node}\` undoes it)`,
      },
    );
  }
  return { node, cordoned, evicted: toEvict.map((p) => p.pod), skipped };
}

/** The API server's cause for a 429 eviction: `The disruption budget web needs 2 healthy pods and has 2 currently`. */
function budgetRefusal(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
    const cause = status?.details?.causes?.find((c) => c.reason === 'DisruptionBudget')?.message;
    return cause ?? status?.message ?? describeApiError(e);
  } catch {
    return describeApiError(e);
  }
}

/** `default/web` from a DisruptionBudget cause about a pod in `default`, if it names one. */
function budgetName(why: string, pod: string): string[] {
  const m = /disruption budget (\S+) needs/.exec(why);
  return m ? [`${pod.split('/')[0] ?? 'default'}/${m[1] ?? ''}`] : [];
}

function describeMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

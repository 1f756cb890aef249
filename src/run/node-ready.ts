// A disruptive host's Node across its change, through the Kubernetes API. Before: with --drain,
// cordon and drain it (drain-node.ts). After: it is back when its Node is Ready, reports the
// kubelet version the spec installs, and has posted a status since its kubelet started (the Ready
// heartbeat, stamped by the node's clock, is not older than the kubelet unit's ActiveEnterTimestamp
// on that same clock: a restarted kubelet always reports at start, and the old one's last
// heartbeat, still fresh for a few seconds, must not count); then
// a drained Node is uncordoned. Otherwise a timeout fails the host, which stops the rollout (and
// the Node stays cordoned, as kubectl drain leaves it).
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { InputError, KubewrightError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';
import { nodeName } from '../spec/node-name.ts';
import { parseKubeVersion, type KubeVersion } from '../spec/version.ts';
import { describeApiError, isNotFound } from '../verify/kube-client.ts';
import { formatExpectedVersion, kubeletVersionMatches } from '../verify/node-status.ts';
import { drainNode, uncordonNode } from './drain-node.ts';
import type { NodeCycle } from './run-hosts.ts';
import { checkKubeletSkew, type ApiServerProbe } from './version-skew.ts';
import type { Executor } from '../exec/executor.ts';

export interface NodeReadyOptions {
  kubeletVersion: KubeVersion;
  timeoutMs: number;
  /** between two reads of the Node (default 1 s) */
  pollMs?: number;
  /** cordon and drain before the change, uncordon once back */
  drain?: { timeoutMs: number; force: boolean } | undefined;
}

function readyCondition(n: V1Node | undefined): { status: string; heartbeat: number | undefined; message: string } | undefined {
  const c = n?.status?.conditions?.find((x) => x.type === 'Ready');
  return c && { status: c.status, heartbeat: c.lastHeartbeatTime ? new Date(c.lastHeartbeatTime).getTime() : undefined, message: c.message ?? c.reason ?? '' };
}

/** When the host's kubelet unit last became active, in ms since the epoch on the host's clock (µs precision where systemd prints it). */
export async function kubeletStartedAt(x: Executor): Promise<number | undefined> {
  // --timestamp=us+utc exists from systemd 248; older ones print whole seconds (in UTC with TZ=UTC)
  const r = await x.exec('TZ=UTC systemctl show -p ActiveEnterTimestamp --timestamp=us+utc --value kubelet.service 2>/dev/null || TZ=UTC systemctl show -p ActiveEnterTimestamp --value kubelet.service', { allowFailure: true });
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? UTC/.exec(r.stdout);
  if (!m) return undefined;
  return Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}Z`);
}

/**
 * A status posted since `startedAt`. Kubernetes stamps heartbeats in whole seconds (metav1.Time):
 * such a heartbeat counts from the start's second on; a finer one (the stand-in kubelet's) exactly.
 */
export function postedSince(heartbeat: number, startedAt: number): boolean {
  return heartbeat % 1000 === 0 ? heartbeat >= Math.floor(startedAt / 1000) * 1000 : heartbeat >= startedAt;
}

export class NodeNotReadyError extends KubewrightError {
  constructor(host: string, node: string, expected: string, seconds: number, last: string) {
    super(`Node ${node} not Ready with kubelet ${expected} within ${seconds} s after the change (last seen: ${last})`, {
      host,
      hint: 'see `journalctl -u kubelet` on the host; fix it and re-run apply: the rollout resumes at this host (raise --node-ready-timeout if the node is only slow)',
    });
  }
}

/**
 * --drain works through the Kubernetes API. apply and up ask it first, before they connect to,
 * create or change anything, and refuse the flag alike when it does not answer (or there are no
 * credentials for it): bad input, exit 2. A first `up` has no Nodes to drain, so it runs without
 * --drain. Returns the probe (the skew check against the spec's minor already passed).
 */
export async function requireApiForDrain(cluster: Cluster, kubeConfig: () => Promise<KubeConfig>): Promise<ApiServerProbe> {
  const probe = await checkKubeletSkew(cluster, undefined, kubeConfig);
  refuseDrainWithoutApi(probe);
  return probe;
}

/** The refusal itself, also for a later probe that no longer reached the API server. */
export function refuseDrainWithoutApi(probe: ApiServerProbe): void {
  if (probe.reachable) return;
  throw new InputError(`--drain: needs the Kubernetes API, and ${probe.note ?? 'it did not answer'}`, {
    hint: 'check kubernetes.apiServer, the control plane and the PKI\'s admin certificate (apply: or pass --kubeconfig), or leave out --drain: a first `up` has no Nodes to drain',
  });
}

/**
 * The rollout's Node cycle once the skew check reached the API server (`probe.reachable`): wait for
 * each changed host's Node to be Ready with kubelet `kubernetesVersion`; undefined when the API
 * server did not answer or the version is unknown (Nodes are then not waited for).
 */
export function nodeCycleAfterProbe(cluster: Cluster, probe: ApiServerProbe, kubernetesVersion: string | undefined, opts: Omit<NodeReadyOptions, 'kubeletVersion'>): NodeCycle | undefined {
  const kubeletVersion = kubernetesVersion === undefined ? undefined : parseKubeVersion(kubernetesVersion);
  return probe.reachable && kubeletVersion ? apiNodeCycle(cluster, probe.reachable.kubeConfig, { ...opts, kubeletVersion }) : undefined;
}

export function apiNodeCycle(cluster: Cluster, kubeConfig: KubeConfig, opts: NodeReadyOptions): NodeCycle {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const read = async (name: string): Promise<V1Node | undefined> => {
    try {
      return await core.readNode({ name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const expected = formatExpectedVersion(opts.kubeletVersion);
  return {
    async takeOut(host: Host, say: (message: string) => void) {
      const name = nodeName(cluster, host);
      const node = await read(name).catch(() => undefined);
      // a Node that never registered has nothing to drain
      const drain = opts.drain && node ? opts.drain : undefined;
      if (drain) {
        say(`cordon and drain Node ${name}`);
        const r = await drainNode(kubeConfig, name, { timeoutMs: drain.timeoutMs, force: drain.force, forceFlag: '--force-drain', onEvent: (e) => say(e.message) });
        say(`Node ${name} drained: ${r.evicted.length} pod(s) evicted`);
      }
      // read last, just before the change: heartbeats posted during the drain are the old kubelet's
      const before = readyCondition(drain ? await read(name).catch(() => undefined) : node)?.heartbeat;
      return async (x: Executor) => {
        const startedAt = await kubeletStartedAt(x);
        const fresh = (hb: number | undefined): boolean => hb !== undefined && (startedAt === undefined ? hb !== before : postedSince(hb, startedAt));
        const deadline = Date.now() + opts.timeoutMs;
        let last = 'not read yet';
        for (;;) {
          try {
            const node = await read(name);
            const ready = readyCondition(node);
            const version = node?.status?.nodeInfo?.kubeletVersion ?? '';
            if (ready?.status === 'True' && kubeletVersionMatches(version, opts.kubeletVersion) && fresh(ready.heartbeat)) {
              if (drain) await uncordonNode(kubeConfig, name);
              return;
            }
            last = !node ? 'not registered' : `Ready=${ready?.status ?? 'none'}${ready?.message ? ` (${ready.message})` : ''}, kubelet ${version || 'version unknown'}${ready && !fresh(ready.heartbeat) ? ', no status posted since its kubelet started' : ''}`;
          } catch (e) {
            last = `API: ${describeApiError(e).split('\n')[0] ?? ''}`;
          }
          if (Date.now() >= deadline) throw new NodeNotReadyError(host.name, name, expected, Math.round(opts.timeoutMs / 1000), last);
          await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - Date.now()))));
        }
      };
    },
  };
}

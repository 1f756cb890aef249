// Plans or applies every host, `parallel` at a time. A failing host stops only itself: the
// others complete, and each outcome says what happened. Apply rolls hosts whose change restarts
// the kubelet or the container runtime (phases/disruption.ts) at most `maxUnavailable` at a time,
// in host order, after every other host is done, each waited for (its Node Ready again with the
// new kubelet) before the next batch; the first failure stops the rollout and leaves the remaining
// hosts untouched.
import { KubewrightError } from '../errors.ts';
import type { Executor } from '../exec/executor.ts';
import type { Host } from '../spec/host.ts';
import type { Arch } from '../render/release-binaries.ts';
import type { BinarySpec, RenderedHost } from '../render/types.ts';
import type { Action } from '../phases/phase.ts';
import { applyPlan, planHost, type BinarySource, type HostPlan } from '../phases/manager.ts';
import { disruptiveActions } from '../phases/disruption.ts';
import type { PreflightRequirements } from '../phases/preflight.ts';

export interface HostTarget {
  host: Host;
  /** the rendered state; its binaries are the amd64 ones */
  desired: RenderedHost;
  /** the binaries for the arch gather reports (amd64 hosts only without it) */
  binariesFor?: ((arch: Arch) => BinarySpec[]) | undefined;
  /** what the preflight checks hold the host to (none: no checks) */
  preflight?: PreflightRequirements | undefined;
}

/** untouched: a disruptive host the rollout did not reach because an earlier host failed */
export type HostStatus = 'unchanged' | 'changed' | 'planned' | 'failed' | 'untouched';

export interface HostOutcome {
  host: string;
  status: HostStatus;
  plan: HostPlan | undefined;
  /** actions applied (apply) */
  applied: number;
  error: unknown;
  durationMs: number;
  /** current contents of files the plan changes (plan mode, non-secret files only), for diffs */
  oldContents: Map<string, string>;
  /** hosts whose plan restarts the kubelet or the runtime: their place in the rollout (1-based batch) */
  rollout?: { batch: number; batches: number } | undefined;
}

export interface HostEvent {
  host: string;
  phase: string;
  /** skipped: the rollout stopped before this host */
  status: 'running' | 'ok' | 'failed' | 'skipped';
  message: string;
}

export interface RunOptions {
  mode: 'plan' | 'apply';
  parallel: number;
  connect(host: Host): Promise<Executor>;
  binaries: BinarySource;
  waitActiveTimeoutSec?: number;
  /** seconds a started unit must stay active (default 0.5) */
  waitActiveSettleSec?: number;
  /** hash every managed file instead of trusting the on-host manifest where the stat is unchanged */
  checksum?: boolean;
  onEvent?(e: HostEvent): void;
  /** called once per host as soon as its outcome is final (in the order hosts finish): after its plan or apply, after its rollout turn, or when the rollout stopped before it */
  onOutcome?(o: HostOutcome): void;
  /** disruptive hosts changed at once (apply; default 1) */
  maxUnavailable?: number;
  /** apply: takes a disruptive host's Node out (drain) and tells when it is back; without it, apply waits for the units only */
  nodeCycle?: NodeCycle | undefined;
  /** the units whose restart or stop takes a host out of service (default: the kubelet and the runtimes; etcd members: etcd and a stacked master's API servers) */
  disruptiveUnits?: ReadonlySet<string> | undefined;
}

/** A host's Node across its change (src/run/node-ready.ts, through the Kubernetes API). */
export interface NodeCycle {
  /** before the host changes (with --drain: cordon and drain); the returned function resolves once its Node is back (Ready with the new kubelet; uncordoned), or throws */
  takeOut(host: Host, say: (message: string) => void): Promise<(x: Executor) => Promise<void>>;
  /** what the host's event says while back() runs (default: its Node to be Ready with the new kubelet) */
  waitingFor?: string | undefined;
}

/** The hosts whose plan restarts the kubelet or the runtime, in host order, `maxUnavailable` per batch. */
export function rolloutBatches(outcomes: readonly HostOutcome[], maxUnavailable: number, units?: ReadonlySet<string>): string[][] {
  const hosts = outcomes.filter((o) => o.status !== 'failed' && o.plan && disruptiveActions(o.plan.actions, units).length > 0).map((o) => o.host);
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += maxUnavailable) batches.push(hosts.slice(i, i + maxUnavailable));
  return batches;
}

/**
 * `first`: plan, and apply unless the plan is disruptive (apply): then the host waits for its
 * turn (status untouched, plan kept, connection closed). `turn`: the host's turn in the rollout:
 * connect again, apply the kept plan, and wait for its Node.
 */
async function runOne(t: HostTarget, opts: RunOptions, stage: 'first' | 'turn' = 'first', previous?: HostOutcome): Promise<HostOutcome> {
  const started = Date.now() - (previous?.durationMs ?? 0);
  const name = t.host.name;
  const emit = (phase: string, status: HostEvent['status'], message: string): void => opts.onEvent?.({ host: name, phase, status, message });
  const outcome: HostOutcome = { host: name, status: 'failed', plan: undefined, applied: 0, error: undefined, durationMs: 0, oldContents: new Map(), rollout: previous?.rollout };
  let x: Executor | undefined;
  let phase = 'connect';
  try {
    emit(phase, 'running', `connecting to ${t.host.user}@${t.host.address ?? '?'}:${t.host.port}`);
    x = await opts.connect(t.host);
    // its turn in the rollout applies the plan made in the first pass (its binaries are fetched
    // already): gathering again would cost a second round trip and hash changed files twice
    const plan = stage === 'turn' && previous?.plan ? previous.plan : await planHost(x, t.desired, opts.binaries, {
      fetchBinaries: opts.mode === 'apply',
      binariesFor: t.binariesFor,
      preflight: t.preflight,
      waitActiveTimeoutSec: opts.waitActiveTimeoutSec,
      waitActiveSettleSec: opts.waitActiveSettleSec,
      checksum: opts.checksum,
      onPhase: (p) => {
        phase = p;
        emit(p, 'running', p);
      },
    });
    outcome.plan = plan;
    if (opts.mode === 'plan') {
      for (const a of plan.actions) {
        const c = a.change;
        if (a.kind === 'write-file' && c?.status === 'update' && !c.secret) {
          const old = await x.read(c.path);
          if (old !== undefined) outcome.oldContents.set(c.path, old.toString('utf8'));
        }
      }
      outcome.status = 'planned';
    } else {
      const disruptive = disruptiveActions(plan.actions, opts.disruptiveUnits);
      if (stage === 'first' && disruptive.length > 0) {
        outcome.status = 'untouched';
        emit('rollout', 'running', `waiting for its turn: ${disruptive.map((a) => `${a.kind} ${a.unit ?? ''}`).join(', ')}`);
        return outcome;
      }
      const nodeBack = disruptive.length > 0 && opts.nodeCycle ? await opts.nodeCycle.takeOut(t.host, (m) => emit((phase = 'node out'), 'running', m)) : undefined;
      outcome.applied = await applyPlan(x, plan, (a: Action) => {
        phase = a.phase;
        emit(a.phase, 'running', a.summary);
      });
      outcome.status = plan.actions.length === 0 ? 'unchanged' : 'changed';
      if (nodeBack) {
        phase = 'node ready';
        emit(phase, 'running', `waiting for ${opts.nodeCycle?.waitingFor ?? 'its Node to be Ready with the new kubelet'}`);
        await nodeBack(x);
      }
    }
    emit('done', 'ok', opts.mode === 'plan' ? `${plan.actions.length} change(s) planned` : `${outcome.applied} change(s) applied`);
  } catch (e) {
    outcome.status = 'failed';
    outcome.error = e;
    emit(phase, 'failed', e instanceof Error ? e.message : String(e));
  } finally {
    await x?.close().catch(() => undefined);
    outcome.durationMs = Date.now() - started;
  }
  return outcome;
}

export async function runHosts(targets: readonly HostTarget[], opts: RunOptions): Promise<HostOutcome[]> {
  const outcomes: HostOutcome[] = new Array<HostOutcome>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const o = (outcomes[i] = await runOne(targets[i]!, opts));
      if (opts.mode === 'plan' || o.status !== 'untouched') opts.onOutcome?.(o);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, targets.length)) }, worker));
  const maxUnavailable = opts.maxUnavailable ?? 1;
  const batches = rolloutBatches(outcomes, maxUnavailable, opts.disruptiveUnits);
  const index = new Map(targets.map((t, i) => [t.host.name, i]));
  batches.forEach((b, k) => b.forEach((h) => (outcomes[index.get(h)!]!.rollout = { batch: k + 1, batches: batches.length })));
  if (opts.mode !== 'apply') return outcomes;
  // a host that failed before the rollout (unreachable, a bad download) stops only itself, as on any apply
  let stopped: string | undefined;
  for (const batch of batches) {
    if (stopped !== undefined) {
      for (const h of batch) {
        const o = outcomes[index.get(h)!]!;
        o.error = new RolloutStoppedError(h, stopped);
        opts.onEvent?.({ host: h, phase: 'rollout', status: 'skipped', message: `not started: the rollout stopped at ${stopped}` });
        opts.onOutcome?.(o);
      }
      continue;
    }
    await Promise.all(batch.map(async (h) => {
      const i = index.get(h)!;
      outcomes[i] = await runOne(targets[i]!, opts, 'turn', outcomes[i]);
      opts.onOutcome?.(outcomes[i]!);
    }));
    stopped = batch.find((h) => outcomes[index.get(h)!]!.status === 'failed');
  }
  return outcomes;
}

/** The error of a host the rollout did not reach. */
export class RolloutStoppedError extends KubewrightError {
  constructor(host: string, readonly stoppedAt: string) {
    super(`not changed: the rollout stopped at ${stoppedAt}, before this host's turn`, { host, hint: `fix ${stoppedAt} and re-run apply: the rollout resumes where it stopped` });
  }
}

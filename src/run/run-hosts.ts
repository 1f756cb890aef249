// Plans or applies every host, `parallel` at a time. A failing host stops only itself: the
// others complete, and each outcome says what happened.
import type { Executor } from '../exec/executor.ts';
import type { Host } from '../spec/host.ts';
import type { Arch } from '../render/release-binaries.ts';
import type { BinarySpec, RenderedHost } from '../render/types.ts';
import type { Action } from '../phases/phase.ts';
import { applyPlan, planHost, type BinarySource, type HostPlan } from '../phases/manager.ts';

export interface HostTarget {
  host: Host;
  /** the rendered state; its binaries are the amd64 ones */
  desired: RenderedHost;
  /** the binaries for the arch gather reports (amd64 hosts only without it) */
  binariesFor?: ((arch: Arch) => BinarySpec[]) | undefined;
}

export type HostStatus = 'unchanged' | 'changed' | 'planned' | 'failed';

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
}

export interface HostEvent {
  host: string;
  phase: string;
  status: 'running' | 'ok' | 'failed';
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
}

async function runOne(t: HostTarget, opts: RunOptions): Promise<HostOutcome> {
  const started = Date.now();
  const name = t.host.name;
  const emit = (phase: string, status: HostEvent['status'], message: string): void => opts.onEvent?.({ host: name, phase, status, message });
  const outcome: HostOutcome = { host: name, status: 'failed', plan: undefined, applied: 0, error: undefined, durationMs: 0, oldContents: new Map() };
  let x: Executor | undefined;
  let phase = 'connect';
  try {
    emit(phase, 'running', `connecting to ${t.host.user}@${t.host.address ?? '?'}:${t.host.port}`);
    x = await opts.connect(t.host);
    const plan = await planHost(x, t.desired, opts.binaries, {
      fetchBinaries: opts.mode === 'apply',
      binariesFor: t.binariesFor,
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
      outcome.applied = await applyPlan(x, plan, (a: Action) => {
        phase = a.phase;
        emit(a.phase, 'running', a.summary);
      });
      outcome.status = plan.actions.length === 0 ? 'unchanged' : 'changed';
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
      outcomes[i] = await runOne(targets[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, targets.length)) }, worker));
  return outcomes;
}

// Runs `up`'s steps in order: plan, then run (or skip), each reported as events. The first
// failure stops the list; the result names the step and keeps what the earlier steps recorded.
import { KubewrightError } from '../../errors.ts';
import type { UpContext, UpPhase, UpEvent } from './up-phase.ts';

export async function runUpPhases(phases: readonly UpPhase[], ctx: UpContext): Promise<KubewrightError | undefined> {
  const emit = (step: string, status: UpEvent['status'], message: string): void => ctx.opts.onEvent?.({ step, status, message });
  let current: UpPhase | undefined;
  try {
    for (const phase of phases) {
      current = phase;
      const plan = phase.plan(ctx);
      if ('skip' in plan) {
        phase.skipped?.(ctx, plan.skip);
        emit(phase.name, 'skipped', plan.skip);
        continue;
      }
      emit(phase.name, 'running', plan.run);
      const done = await phase.run(ctx, (m) => emit(phase.name, 'running', m));
      if (typeof done === 'string') emit(phase.name, 'ok', done);
      else emit(phase.name, 'skipped', done.skipped);
    }
    ctx.result.ok = true;
    return undefined;
  } catch (e) {
    const step = current?.name ?? 'up';
    const failure = e instanceof KubewrightError ? e : new KubewrightError(`${step}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    ctx.result.failedStep = step;
    ctx.result.error = failure.describe();
    emit(step, 'failed', failure.message);
    return failure;
  }
}

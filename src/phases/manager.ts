// Runs the phases for one host: gather (one command) → plan every phase → apply the actions in
// order. Planning is pure given the facts; `plan` stops there.
import { statSync } from 'node:fs';
import { ArtifactFetchError } from '../artifacts/artifact-errors.ts';
import type { LocalBinary } from '../artifacts/artifact-store.ts';
import type { Executor } from '../exec/executor.ts';
import type { Arch } from '../render/release-binaries.ts';
import type { BinarySpec, RenderedHost } from '../render/types.ts';
import type { Action, Phase, PlanContext } from './phase.ts';
import { daemonReload } from './daemon-reload.ts';
import { gatherFacts } from './gather-facts.ts';
import { hostArch, UnsupportedArchError } from './host-arch.ts';
import type { HostFacts } from './host-facts.ts';
import { installBinaries } from './install-binaries.ts';
import { prepareDirectories } from './prepare-directories.ts';
import { preflightChecks, PreflightError, type PreflightFinding, type PreflightRequirements } from './preflight.ts';
import { prune } from './prune.ts';
import { isManifestAction, manifestAction } from './record-manifest.ts';
import { startUnits } from './start-units.ts';
import { writeFiles } from './write-files.ts';

/** In order; connect and gather come before them (run-hosts.ts, gather-facts.ts), recording the manifest after. */
export const applyPhases: readonly Phase[] = [prune, prepareDirectories, installBinaries, writeFiles, daemonReload, startUnits];

/** Where binaries come from; ArtifactStore implements it. */
export interface BinarySource {
  knownInstalledDigest(b: BinarySpec): Promise<string | undefined>;
  binary(b: BinarySpec): Promise<LocalBinary>;
}

export interface HostPlan {
  host: string;
  facts: HostFacts;
  actions: Action[];
  /** the preflight checks (none when the run asked for none); a blocking one throws PreflightError instead */
  findings: PreflightFinding[];
}

export interface PlanOptions {
  /** apply: download archives while planning so every binary's digest is known (plan: don't) */
  fetchBinaries: boolean;
  waitActiveTimeoutSec?: number | undefined;
  waitActiveSettleSec?: number | undefined;
  /** hash every managed file instead of trusting the manifest's sha256 where the stat is unchanged */
  checksum?: boolean | undefined;
  onPhase?: (phase: string) => void;
  /**
   * The binaries for the arch gather reports. Without it, `desired.binaries` (rendered for amd64)
   * serve amd64 hosts only, and any other host is refused rather than sent amd64 binaries.
   */
  binariesFor?: ((arch: Arch) => BinarySpec[]) | undefined;
  /** run the preflight checks against these requirements (plan, apply, doctor) */
  preflight?: PreflightRequirements | undefined;
}

export async function planHost(x: Executor, desired: RenderedHost, binaries: BinarySource, opts: PlanOptions): Promise<HostPlan> {
  opts.onPhase?.('gather facts');
  const facts = await gatherFacts(x, desired, { checksum: opts.checksum });
  return planFromFacts(x.host, desired, facts, binaries, opts);
}

/** The pure half of planning: the actions that take a host from `facts` to `desired`. */
export async function planFromFacts(host: string, rendered: RenderedHost, facts: HostFacts, binaries: BinarySource, opts: PlanOptions): Promise<HostPlan> {
  // preflight first: a host that cannot run the render fails before anything is fetched or written.
  // Binaries not on the host yet are what needs room (estimated here, measured below for apply).
  const toInstall = rendered.binaries.filter((b) => !facts.files.has(b.path)).map((b) => b.path);
  const findings = opts.preflight ? preflightChecks({ facts, desired: rendered, requirements: opts.preflight, binariesToInstall: toInstall }) : [];
  if (findings.some((f) => f.severity === 'blocking')) throw new PreflightError(host, findings);
  const arch = hostArch(host, facts.arch);
  let desired = rendered;
  if (opts.binariesFor) desired = { ...rendered, binaries: opts.binariesFor(arch) };
  else if (arch !== 'amd64') throw new UnsupportedArchError(host, facts.arch, 'amd64');
  // plan offline: a checksum source that cannot be reached makes the binary "unknown", not the host failed
  const unavailable = new Map<string, string>();
  const ctx: PlanContext = {
    host,
    desired,
    facts,
    // a digest known without downloading (lockfile, cache index) is enough; apply fetches only the
    // unknown, plan reports a checksum it cannot reach instead of failing the host
    installedDigest: async (b) => {
      try {
        const known = await binaries.knownInstalledDigest(b);
        if (known !== undefined || !opts.fetchBinaries) return known;
      } catch (e) {
        if (opts.fetchBinaries || !(e instanceof ArtifactFetchError)) throw e;
        unavailable.set(b.url, 'checksum unreachable (offline)');
        return undefined;
      }
      return (await binaries.binary(b)).sha256;
    },
    digestUnavailable: (b) => unavailable.get(b.url),
    localBinary: (b) => binaries.binary(b),
    changed: new Map(),
    waitActiveTimeoutSec: opts.waitActiveTimeoutSec ?? 60,
    waitActiveSettleSec: opts.waitActiveSettleSec ?? 0.5,
  };
  const actions: Action[] = [];
  for (const phase of applyPhases) {
    opts.onPhase?.(`plan ${phase.title}`);
    actions.push(...(await phase.plan(ctx)));
  }
  // apply: every binary to install is downloaded and verified before the first action runs, so a
  // bad download fails the host untouched; binaries the host already has are never fetched
  if (opts.fetchBinaries) {
    const fetched = await Promise.all(actions.flatMap((a) => (a.kind === 'install-binary' && a.binary ? [binaries.binary(a.binary).then((l) => [a.binary!.path, l] as const)] : [])));
    if (opts.preflight && fetched.length > 0) {
      // the downloads measured: now the disk check can refuse
      const sizes = new Map(fetched.map(([path, l]) => [path, statSync(l.localPath).size]));
      const exact = preflightChecks({ facts, desired, requirements: opts.preflight, binariesToInstall: [...sizes.keys()], binaryBytes: (p) => sizes.get(p) });
      const disk = exact.find((f) => f.check === 'disk');
      const at = findings.findIndex((f) => f.check === 'disk');
      if (disk && at >= 0) findings.splice(at, 1, disk);
      if (disk?.severity === 'blocking') throw new PreflightError(host, findings);
    }
  }
  const record = manifestAction(host, desired, facts, actions);
  return { host, facts, actions: record ? [...actions, record] : actions, findings };
}

/**
 * Applies the actions in order; the first failure stops the host (later actions depend on it),
 * after recording in the manifest what was done.
 */
export async function applyPlan(x: Executor, plan: HostPlan, onAction?: (a: Action) => void): Promise<number> {
  const completed: Action[] = [];
  try {
    for (const a of plan.actions) {
      onAction?.(a);
      await a.apply(x);
      completed.push(a);
    }
  } catch (e) {
    const record = plan.actions.find(isManifestAction);
    if (record && completed.length > 0 && !completed.includes(record)) await record.recordAfter(x, completed).catch(() => undefined);
    throw e;
  }
  return completed.length;
}

// Records the on-host manifest after apply: every managed path with the sha256 kubewright wrote
// (or found) and its stat as it is now, the units and the directories kubewright created. Runs
// last, after an apply that changed something; also after a failed one, for what was done (so
// that what kubewright installed can still be pruned). A no-op writes nothing.
//
// An entry vouches "while the stat is this, the content is this sha256". So a path's stat is
// recorded only with a sha256 known to match it: the one just written, or the one gather saw
// under the very same stat. Anything else is recorded without stat and hashed next time.
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import type { RenderedHost } from '../render/types.ts';
import type { Action } from './phase.ts';
import { managedDirsWithAncestors, managedPaths } from './gather-facts.ts';
import type { HostFacts } from './host-facts.ts';
import { MANIFEST_PATH, parseStatLine, sameStat, serializeManifest, STAT_FORMAT, type FileStat, type HostManifest, type ManifestFile } from './host-manifest.ts';
import { unitName } from '../render/unit-file.ts';

/** What a list of completed actions did to a host. */
interface Applied {
  /** paths written or chmodded, with the sha256 they have now (undefined when unknown) */
  written: Map<string, string | undefined>;
  removedPaths: Set<string>;
  removedUnits: Set<string>;
  createdDirs: Set<string>;
}

function appliedBy(actions: readonly Action[]): Applied {
  const a: Applied = { written: new Map(), removedPaths: new Set(), removedUnits: new Set(), createdDirs: new Set() };
  for (const x of actions) {
    if ((x.kind === 'write-file' || x.kind === 'install-binary' || x.kind === 'chmod') && x.change) a.written.set(x.change.path, x.change.newSha256);
    else if (x.kind === 'remove' && x.change) a.removedPaths.add(x.change.path);
    else if (x.kind === 'stop-disable' && x.unit) a.removedUnits.add(x.unit);
    else if (x.kind === 'mkdir') for (const d of x.reasons) a.createdDirs.add(d);
  }
  return a;
}

/** The manifest that describes the host after `completed` of the `planned` actions, given the stat of each path now. */
export function manifestFor(desired: RenderedHost, facts: HostFacts, planned: readonly Action[], completed: readonly Action[], now: ReadonlyMap<string, FileStat>): HostManifest {
  const done = appliedBy(completed);
  const binaries = new Set(desired.binaries.map((b) => b.path));
  const files: ManifestFile[] = [];
  for (const path of managedPaths(desired)) {
    const stat = now.get(path);
    if (!stat) continue;
    const kind = binaries.has(path) ? 'binary' : 'file';
    const fact = facts.files.get(path);
    const sha256 = done.written.has(path) ? done.written.get(path) : fact?.sha256 !== undefined && sameStat(fact.stat, stat) ? fact.sha256 : undefined;
    files.push(sha256 === undefined ? { path, kind } : { path, kind, sha256, stat });
  }
  // a removal that was planned but did not happen (the apply stopped first) is still owed
  const owed = new Set(completed);
  for (const a of planned) {
    if (a.kind === 'remove' && a.change && !owed.has(a)) {
      const entry = facts.manifest?.files.find((f) => f.path === a.change!.path);
      if (entry) files.push({ path: entry.path, kind: entry.kind });
    }
  }
  const units = new Set(desired.units.map((u) => unitName(u.name)));
  for (const a of planned) if (a.kind === 'stop-disable' && a.unit && !done.removedUnits.has(a.unit)) units.add(a.unit);
  const keep = new Set(managedDirsWithAncestors(desired));
  const dirs = new Set([...(facts.manifest?.dirs ?? []).filter((d) => keep.has(d)), ...done.createdDirs]);
  return { version: 1, files, units: [...units], dirs: [...dirs] };
}

/** Stats the managed paths now and writes the manifest atomically. */
async function record(x: Executor, desired: RenderedHost, facts: HostFacts, planned: readonly Action[], completed: readonly Action[]): Promise<void> {
  const paths = managedPaths(desired);
  const r = await x.exec(`LC_ALL=C stat -c '${STAT_FORMAT}' -- ${paths.map(shellQuote).join(' ')} 2>/dev/null; true`);
  const now = new Map<string, FileStat>();
  for (const line of r.stdout.split('\n')) {
    const s = parseStatLine(line);
    if (s) now.set(s.path, s.stat);
  }
  await x.put({ path: MANIFEST_PATH, mode: 0o600, contents: serializeManifest(manifestFor(desired, facts, planned, completed, now)) });
}

export interface ManifestAction extends Action {
  kind: 'record-manifest';
  /** records the manifest after only `completed` of the plan's actions (a failed apply) */
  recordAfter(x: Executor, completed: readonly Action[]): Promise<void>;
}

export function isManifestAction(a: Action): a is ManifestAction {
  return a.kind === 'record-manifest' && 'recordAfter' in a;
}

/**
 * The action that records the manifest: after any change, and on a host without a (valid)
 * manifest or whose manifest is out of date (a file's stat changed, its content did not).
 */
export function manifestAction(host: string, desired: RenderedHost, facts: HostFacts, planned: readonly Action[]): ManifestAction | undefined {
  let why: string;
  if (planned.length > 0) why = 'after the changes above';
  else if (facts.manifestProblem) why = `the one there is unreadable: ${facts.manifestProblem}`;
  else if (!facts.manifest) why = 'none recorded yet';
  else {
    const stats = new Map([...facts.files].flatMap(([p, f]) => (f.stat ? [[p, f.stat] as const] : [])));
    if (serializeManifest(manifestFor(desired, facts, [], [], stats)) === serializeManifest(facts.manifest)) return undefined;
    const restat = [...facts.files.values()].filter((f) => f.hashed).length;
    why = restat > 0 ? `${restat} file(s) with a new stat but the same content` : 'out of date';
  }
  return {
    host,
    phase: 'manifest',
    kind: 'record-manifest',
    summary: `record ${MANIFEST_PATH} (${why})`,
    reasons: [MANIFEST_PATH],
    apply: (x) => record(x, desired, facts, planned, planned),
    recordAfter: (x, completed) => record(x, desired, facts, planned, completed),
  };
}

// The k0sctl shape: phases plan Actions from the desired state and the gathered facts; only
// apply mutates. `plan` shows the same Actions without running them.
import type { LocalBinary } from '../artifacts/artifact-store.ts';
import type { Executor } from '../exec/executor.ts';
import type { BinarySpec, RenderedHost } from '../render/types.ts';
import type { HostFacts } from './host-facts.ts';

export type ActionKind =
  | 'mkdir'
  | 'remove-temp'
  | 'install-binary'
  | 'chmod'
  | 'write-file'
  | 'daemon-reload'
  | 'enable'
  | 'start'
  | 'restart'
  | 'wait-active'
  | 'stop-disable'
  | 'remove'
  | 'record-manifest';

/** A managed file or binary that will change. */
export interface PathChange {
  path: string;
  status: 'create' | 'update' | 'mode' | 'remove';
  mode: number;
  oldMode?: number | undefined;
  oldSha256?: string | undefined;
  /** undefined when only a download tells (an archive member not fetched yet) */
  newSha256?: string | undefined;
  secret?: boolean;
  /** new text contents of a rendered file (never shown when secret) */
  contents?: string;
}

export interface Action {
  host: string;
  phase: string;
  kind: ActionKind;
  /** one line for people: `write /etc/systemd/system/kubelet.service (content changed)` */
  summary: string;
  /** the paths or state that make this action necessary */
  reasons: string[];
  change?: PathChange | undefined;
  unit?: string | undefined;
  binary?: BinarySpec | undefined;
  apply(x: Executor): Promise<void>;
}

export interface PlanContext {
  host: string;
  desired: RenderedHost;
  facts: HostFacts;
  /** the sha256 a binary will have once installed, undefined when only a download tells */
  installedDigest(b: BinarySpec): Promise<string | undefined>;
  /** plan only: why installedDigest could not tell (its checksum source unreachable: offline) */
  digestUnavailable?(b: BinarySpec): string | undefined;
  /** the verified local copy of a binary (downloads on first use) */
  localBinary(b: BinarySpec): Promise<LocalBinary>;
  /** paths planned to change so far, with why; later phases (restarts) read it */
  changed: Map<string, string>;
  /** how long to wait for a started unit to be active */
  waitActiveTimeoutSec: number;
  /** how long a unit must stay active to count as started (catches units that crash at once) */
  waitActiveSettleSec: number;
}

export interface Phase {
  title: string;
  plan(ctx: PlanContext): Promise<Action[]>;
}

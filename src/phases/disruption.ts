// Which planned changes take a node out of service: restarting (or stopping) the kubelet or the
// container runtime while it runs — a changed kubelet/runtime binary, unit, drop-in or config, a
// new Kubernetes version, a switched runtime. Apply rolls such hosts a few at a time
// (--max-unavailable). Starting a unit that is not running (a fresh host) disrupts nothing.
import type { Action } from './phase.ts';

/** The units whose restart makes a node unavailable: the kubelet and the container runtimes kubewright renders. */
export const DISRUPTIVE_UNITS: ReadonlySet<string> = new Set(['kubelet.service', 'containerd.service', 'docker.service']);

/** The actions that restart or stop a running kubelet or runtime (or the `units` given), in plan order. */
export function disruptiveActions(actions: readonly Action[], units: ReadonlySet<string> = DISRUPTIVE_UNITS): Action[] {
  return actions.filter((a) => (a.kind === 'restart' || a.kind === 'stop-disable') && a.unit !== undefined && units.has(a.unit));
}

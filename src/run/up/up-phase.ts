// `up`'s cluster-wide steps as phases, the k0sctl shape apply's host phases have
// (src/phases/phase.ts): each a named step with plan (what it will do, or why it is skipped) and
// run. runUpPhases (up/run-up-phases.ts) runs a list of them in order and stops at the first
// failure. To add a step (etcd members, masters, node removal), write one file exporting an
// UpPhase and put it in its place in `upPhases` (src/run/up.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import type { EtcdConnection } from '../../etcd/etcd-store.ts';
import type { NetworkConfigResult } from '../../etcd/flannel-network-config.ts';
import type { ClusterPki, CertDecision } from '../../pki/cluster-pki.ts';
import type { IgnoredPreflightErrors } from '../../phases/preflight.ts';
import type { ProviderReport } from '../../providers/provider.ts';
import type { ProviderOptions } from '../../providers/provider-for.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import type { AppliedObject } from '../../addons/apply-dns-addon.ts';
import type { VerifyReport } from '../../verify/verify-cluster.ts';
import { KubewrightError } from '../../errors.ts';
import type { EtcdClusterReport } from '../etcd-cluster.ts';
import type { PreparedRun } from '../prepare-run.ts';
import type { HostEvent, HostOutcome } from '../run-hosts.ts';
import type { ProgressStatus } from '../progress-event.ts';

export interface UpOptions {
  provider?: ProviderOptions;
  acceptNewHostKeys?: boolean;
  parallel?: number;
  /** how long verify keeps trying before it fails */
  verifyWaitMs?: number;
  skipVerify?: boolean;
  /** the read-only DigitalOcean token placed on nodes for etcd-lookup (etcd.discovery.digitaloceanTag) */
  lookupTokenFile?: string | undefined;
  /** change flannel's network config even though nodes hold leases */
  forceNetwork?: boolean;
  waitActiveTimeoutSec?: number;
  /** how long the control-plane step waits for every kube-apiserver to answer ready (default 3 min) */
  controlPlaneReadyTimeoutMs?: number;
  /** keep retrying SSH while a new host's sshd is not up yet; default 5 min for DigitalOcean and Terraform hosts, 0 otherwise */
  waitForSshMs?: number | undefined;
  cacheDir?: string | undefined;
  /**
   * drain and remove the hosts that left the spec (DigitalOcean workers beyond workers.count,
   * static hosts taken out of the spec): cordon, drain, reset, delete Node and lease, destroy or forget
   */
  prune?: boolean;
  /** how long each node's drain may take (default 5 min) */
  drainTimeoutMs?: number;
  /** drain pods no controller manages too */
  drainForce?: boolean;
  /** between eviction attempts a PodDisruptionBudget refused (default 5 s) */
  drainRetryIntervalMs?: number;
  /** hosts whose change restarts the kubelet or the runtime that apply takes out at once (default 1) */
  maxUnavailable?: number;
  /** cordon and drain each such host's Node before its change, uncordon it once it is back */
  drainBeforeChange?: boolean;
  /** --ignore-preflight-errors: checks whose blocking findings apply accepts knowingly */
  ignorePreflightErrors?: IgnoredPreflightErrors | undefined;
  /** how long apply waits for a changed host's Node to be Ready with the new kubelet (default 5 min) */
  nodeReadyTimeoutMs?: number;
  onEvent?: (e: UpEvent) => void;
  /** a host's progress; `step` names the step when it is not apply (etcd-cluster, control-plane) */
  onHostEvent?: (e: HostEvent, step?: string) => void;
}

/** A step's own progress: `running` (maybe several, as it goes), then one of ok, skipped, failed. */
export interface UpEvent {
  step: string;
  status: ProgressStatus;
  message: string;
}

export interface UpHostSummary {
  name: string;
  publicAddress: string | undefined;
  privateAddress: string | undefined;
  status: HostOutcome['status'];
  actions: number;
  error?: string | undefined;
}

export interface UpResult {
  cluster: string;
  profile: Cluster['profile'];
  ok: boolean;
  /** the step that failed, if any; later steps did not run */
  failedStep?: string | undefined;
  error?: string | undefined;
  provision?: ProviderReport | undefined;
  hosts: UpHostSummary[];
  pki?: { issued: CertDecision[]; kept: number } | undefined;
  etcd?: (Pick<NetworkConfigResult, 'key' | 'action' | 'changes'> & { endpoints: string[] }) | { action: 'skipped'; reason: string } | undefined;
  /** the etcd cluster kubewright builds (controlPlane section): how it went, per member */
  etcdCluster?: Pick<EtcdClusterReport, 'mode' | 'added' | 'members'> | undefined;
  /** the API servers kubewright builds: what applying each master did, and the endpoint /readyz answered on */
  controlPlane?: { endpoint: string; masters: { name: string; status: HostOutcome['status'] }[]; rbac: AppliedObject[] } | undefined;
  kubernetesVersion?: string | undefined;
  dns?: AppliedObject[] | undefined;
  /** the hosts that left the spec: removed (with prune: the steps run) or kept */
  removal?: { hosts: string[]; removed: boolean; steps: string[]; warnings: string[] } | undefined;
  verify?: VerifyReport | undefined;
}

/** What earlier steps hand to later ones; each slot is written once by the step named in `producers`. */
export interface UpSlots {
  /** the cluster once provision knows what the spec left open: the API load balancer's IP as the endpoint */
  cluster: Cluster;
  hosts: Host[];
  pki: ClusterPki;
  /** undefined when the spec has no etcd.discovery */
  etcd: EtcdConnection | undefined;
  /** the etcd cluster kubewright built; undefined without a controlPlane section */
  etcdCluster: EtcdClusterReport | undefined;
  prepared: PreparedRun;
  kubeConfig: KubeConfig;
}

const producers: Record<keyof UpSlots, string> = { cluster: 'provision', hosts: 'provision', pki: 'pki', etcdCluster: 'etcd-cluster', etcd: 'etcd', prepared: 'apply', kubeConfig: 'dns' };

export class UpContext {
  private readonly slots = new Map<keyof UpSlots, unknown>();

  constructor(
    /** the cluster as the spec says; `cluster` is what the steps so far have settled */
    readonly spec: Cluster,
    readonly opts: UpOptions,
    /** what each step did, as `up --output json` prints it; steps record into it */
    readonly result: UpResult,
    /** the etcd-lookup token, read before any step so a bad flag costs no host */
    readonly lookupToken: string | undefined,
  ) {}

  /**
   * The cluster every step works on: the spec's until provision has run, then the one it settled
   * (the 'cluster' slot: the load balancer's IP as the API endpoint, so the serving certificate and
   * every kubeconfig name it). Never a mutated spec.
   */
  get cluster(): Cluster {
    return this.slots.has('cluster') ? (this.slots.get('cluster') as Cluster) : this.spec;
  }

  put<K extends keyof UpSlots>(key: K, value: UpSlots[K]): void {
    if (this.slots.has(key)) throw new Error(`up: ${key} was already set (by ${producers[key]}); a step may set it once`);
    this.slots.set(key, value);
  }

  /** The value an earlier step produced; a step list missing its producer is a programming error. */
  need<K extends keyof UpSlots>(key: K): UpSlots[K] {
    if (!this.slots.has(key)) throw new KubewrightError(`up: ${key} is not known yet: the ${producers[key]} step must run before this one`);
    return this.slots.get(key) as UpSlots[K];
  }

  has(key: keyof UpSlots): boolean {
    return this.slots.has(key);
  }
}

/** What a step will do (the message of its `running` event), or why it does nothing this time. */
export type UpPlan = { run: string } | { skip: string };

/** What a step did: the message of its `ok` event, or why it turned out to have nothing to do. */
export type UpDone = string | { skipped: string };

export interface UpPhase {
  /** its name in events, `--help`, and `failedStep` */
  name: string;
  /** one line for `--help`: what it does */
  title: string;
  /** decided from the spec, the options and earlier steps' output; changes nothing */
  plan(ctx: UpContext): UpPlan;
  /** when plan skips it: record the skip (in ctx.result, and the slots later steps need) */
  skipped?(ctx: UpContext, reason: string): void;
  /** does it; `say` reports progress within the step (further `running` events) */
  run(ctx: UpContext, say: (message: string) => void): Promise<UpDone>;
}

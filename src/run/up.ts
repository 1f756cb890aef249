// `kubewright up`: the post's whole journey — provider → PKI → flannel config in etcd → apply
// phases → DNS addon → verify. Every step is idempotent, so re-running after a failure
// continues from the current state. The result records what each step changed.
import { KubewrightError, VerifyError } from '../errors.ts';
import { resolveEtcdConnection, type EtcdAccessOptions } from '../etcd/etcd-connection.ts';
import { dropletPrivateIpLister } from '../providers/digitalocean/etcd-endpoints.ts';
import { openEtcdStore, type EtcdConnection } from '../etcd/etcd-store.ts';
import { flannelLeaseMapper } from '../etcd/flannel-leases.ts';
import { writeFlannelNetworkConfig, type NetworkConfigResult } from '../etcd/flannel-network-config.ts';
import { readLookupTokenFile } from './lookup-token.ts';
import { describeError } from './plan-report.ts';
import { prepareRun } from './prepare-run.ts';
import { runHosts, type HostEvent, type HostOutcome } from './run-hosts.ts';
import { ensureClusterPki, type CertDecision } from '../pki/cluster-pki.ts';
import type { ProviderReport } from '../providers/provider.ts';
import { providerFor, type ProviderOptions } from '../providers/provider-for.ts';
import type { Cluster } from '../spec/cluster.ts';
import { applyDnsAddon, type AppliedObject } from '../addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../verify/kube-client.ts';
import { verifyCluster, verifyUntil, type VerifyReport } from '../verify/verify-cluster.ts';

export const upSteps = ['provision', 'pki', 'etcd', 'apply', 'dns', 'verify'] as const;
export type UpStep = (typeof upSteps)[number];

export interface UpEvent {
  step: UpStep;
  status: 'start' | 'ok' | 'skipped' | 'failed';
  message: string;
}

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
  /** keep retrying SSH while a new host's sshd is not up yet; default 5 min for DigitalOcean and Terraform hosts, 0 otherwise */
  waitForSshMs?: number | undefined;
  /** test-only: fake filesystem root per host name */
  hostRoots?: Record<string, string> | undefined;
  cacheDir?: string | undefined;
  onEvent?: (e: UpEvent) => void;
  onHostEvent?: (e: HostEvent) => void;
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
  failedStep?: UpStep | undefined;
  error?: string | undefined;
  provision?: ProviderReport | undefined;
  hosts: UpHostSummary[];
  pki?: { issued: CertDecision[]; kept: number } | undefined;
  etcd?: (Pick<NetworkConfigResult, 'key' | 'action' | 'changes'> & { endpoints: string[] }) | { action: 'skipped'; reason: string } | undefined;
  kubernetesVersion?: string | undefined;
  dns?: AppliedObject[] | undefined;
  verify?: VerifyReport | undefined;
}

/** Runs the journey. Returns the result with `failure` set instead of throwing for step failures. */
export async function runUp(cluster: Cluster, opts: UpOptions = {}): Promise<{ result: UpResult; failure: KubewrightError | undefined }> {
  const emit = (step: UpStep, status: UpEvent['status'], message: string): void => opts.onEvent?.({ step, status, message });
  const result: UpResult = { cluster: cluster.name, profile: cluster.profile, ok: false, hosts: [] };
  let step: UpStep = 'provision';
  // read user input before creating anything, so a bad flag costs no droplet; it is placed as read here
  const lookup = await readLookupTokenFile(cluster, opts.lookupTokenFile, 'apply');
  try {
    emit(step, 'start', `${cluster.provider.kind}: ensuring ${cluster.workers.count || 'the listed'} hosts`);
    const { hosts, report: provision } = await providerFor(cluster, opts.provider).ensure();
    result.provision = provision;
    result.hosts = hosts.map((h) => ({ name: h.name, publicAddress: h.publicAddress ?? h.address, privateAddress: h.privateAddress, status: 'planned', actions: 0 }));
    if (hosts.some((h) => !h.address)) {
      throw new KubewrightError(`provision: no address for ${hosts.filter((h) => !h.address).map((h) => h.name).join(', ')}`, { hint: 're-run `kubewright up`; the provider may still be assigning addresses' });
    }
    emit(step, 'ok', `${hosts.length} hosts ready (${provision.created.length} created)`);

    step = 'pki';
    emit(step, 'start', 'CA and certificates');
    const pki = await ensureClusterPki(cluster, hosts, { createCa: true });
    const issued = pki.decisions.filter((d) => d.action !== 'keep');
    result.pki = { issued, kept: pki.decisions.length - issued.length };
    emit(step, 'ok', issued.length === 0 ? `all ${pki.decisions.length} certificates kept` : `${issued.length} issued (${issued.map((d) => d.name).join(', ')}), ${result.pki.kept} kept`);

    step = 'etcd';
    // the etcd connection is resolved once, for the network config here and the lease check in verify
    const { endpoints, digitaloceanTag } = cluster.etcd.discovery;
    const etcd = endpoints?.length || digitaloceanTag ? await resolveEtcdConnection(cluster, etcdAccess(opts)) : undefined;
    result.etcd = await writeNetworkConfig(cluster, etcd, opts, (m) => emit('etcd', 'start', m));
    emit(step, result.etcd.action === 'skipped' ? 'skipped' : 'ok', result.etcd.action === 'skipped' ? result.etcd.reason : `${result.etcd.key}: ${result.etcd.action}`);

    step = 'apply';
    emit(step, 'start', `files, binaries and units on ${hosts.length} hosts`);
    const run = await prepareRun(cluster, {
      mode: 'apply', acceptNewHostKeys: opts.acceptNewHostKeys ?? false, hosts, hostRoots: opts.hostRoots, cacheDir: opts.cacheDir,
      settled: { credentials: pki.credentials, lookupToken: lookup.token }, waitForSshMs: opts.waitForSshMs ?? defaultWaitForSshMs(cluster),
    });
    result.kubernetesVersion = run.resolvedKubernetesVersion;
    const outcomes = await runHosts(run.targets, {
      mode: 'apply',
      parallel: opts.parallel ?? 10,
      binaries: run.store,
      connect: run.connect,
      ...(opts.waitActiveTimeoutSec !== undefined ? { waitActiveTimeoutSec: opts.waitActiveTimeoutSec } : {}),
      ...(opts.onHostEvent ? { onEvent: opts.onHostEvent } : {}),
    });
    result.hosts = result.hosts.map((h, i) => {
      const o = outcomes[i];
      return o ? { ...h, status: o.status, actions: o.applied, error: o.status === 'failed' ? describeError(o.error) : undefined } : h;
    });
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length > 0) {
      throw new KubewrightError(`apply failed on ${failed.length} of ${outcomes.length} host(s): ${failed.map((o) => o.host).join(', ')}`, {
        hint: 'fix the cause shown for each host and re-run `kubewright up`: finished steps and hosts are no-ops',
      });
    }
    const changed = outcomes.filter((o) => o.status === 'changed').length;
    emit(step, 'ok', changed === 0 ? 'every host unchanged' : `${changed} host(s) changed, ${outcomes.length - changed} unchanged`);

    step = 'dns';
    emit(step, 'start', `${cluster.dns} addon at ${cluster.kubernetes.clusterDNS}`);
    const kubeConfig = adminKubeConfig(cluster.kubernetes.apiServer, pki.credentials.caPem, pki.admin);
    result.dns = await applyDnsAddon(kubeConfig, run.clusterFiles);
    const dnsChanged = result.dns.filter((o) => o.action !== 'unchanged').length;
    emit(step, 'ok', dnsChanged === 0 ? `${result.dns.length} objects unchanged` : `${dnsChanged} of ${result.dns.length} objects created or configured`);

    step = 'verify';
    if (opts.skipVerify) {
      emit(step, 'skipped', '--skip-verify');
    } else {
      emit(step, 'start', `nodes Ready, DNS, flannel leases${opts.verifyWaitMs ? ` (waiting up to ${Math.round(opts.verifyWaitMs / 1000)} s)` : ''}`);
      const flannelLeases = etcd === undefined ? undefined : flannelLeaseMapper(cluster, etcd);
      result.verify = await verifyUntil(() => verifyCluster({ cluster, hosts, kubeConfig, flannelLeases }), opts.verifyWaitMs ?? 0);
      if (!result.verify.ok) {
        throw new VerifyError(`verify: ${result.verify.problems.length} check(s) failed: ${result.verify.problems[0] ?? ''}${result.verify.problems.length > 1 ? ' …' : ''}`, {
          hint: 'nodes need a moment after their first start: re-run `kubewright verify -f <spec> --wait 2m`',
        });
      }
      emit(step, 'ok', `${result.verify.nodes.length} nodes Ready, DNS ok`);
    }
    result.ok = true;
    return { result, failure: undefined };
  } catch (e) {
    const failure = e instanceof KubewrightError ? e : new KubewrightError(`${step}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    result.failedStep = step;
    result.error = failure.describe();
    emit(step, 'failed', failure.message);
    return { result, failure };
  }
}

function etcdAccess(opts: UpOptions): EtcdAccessOptions {
  return { listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: opts.provider?.tokenFile, apiUrl: opts.provider?.apiUrl, env: opts.provider?.env }) };
}

async function writeNetworkConfig(cluster: Cluster, conn: EtcdConnection | undefined, opts: UpOptions, say: (m: string) => void): Promise<NonNullable<UpResult['etcd']>> {
  if (!conn) {
    return { action: 'skipped', reason: 'no etcd.discovery in the spec: flannel\'s network config is left to whoever runs etcd' };
  }
  say(`${cluster.etcd.prefix}/config via the ${cluster.etcd.api} API at ${conn.endpoints.join(', ')}`);
  const store = openEtcdStore(cluster.etcd.api, conn);
  try {
    const r = await writeFlannelNetworkConfig(store, cluster, { force: opts.forceNetwork ?? false });
    return { key: r.key, action: r.action, changes: r.changes, endpoints: conn.endpoints };
  } finally {
    store.close();
  }
}

/** Droplets turn `active` before cloud-init has started sshd; static and lab hosts answer at once. */
function defaultWaitForSshMs(cluster: Cluster): number {
  return cluster.provider.kind === 'digitalocean' || cluster.provider.kind === 'terraform' ? 5 * 60_000 : 0;
}

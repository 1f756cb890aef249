import type { Command } from 'commander';
import { ignorePreflightErrorsOption } from '../preflight-option.ts';
import { parseIgnorePreflightErrors } from '../../phases/preflight.ts';
import { eventsFlag, eventsOption } from '../events-option.ts';
import type { ProgressEvent } from '../../run/progress-event.ts';
import { runUp, upPhases, upSteps, type UpEvent, type UpResult } from '../../run/up.ts';
import { formatVerifyReport } from '../verify-report.ts';
import { durationFlag } from '../duration-option.ts';
import { outputOption } from '../output-option.ts';
import { processIo, type Io } from '../io.ts';
import { onTerminal, ProgressList } from '../progress-list.ts';
import type { HostEvent } from '../../run/run-hosts.ts';
import { formatTable } from '../table.ts';
import { showEachHost } from '../per-host-output.ts';
import { someNames } from '../../run/plan-report.ts';
import { plannedHosts } from '../../providers/provider.ts';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { maxUnavailableHelp, parseHostCount, parseParallel } from './plan.ts';

interface UpCliOptions {
  file: string;
  lockTimeout: string;
  tokenFile?: string;
  apiUrl?: string;
  lookupTokenFile?: string;
  acceptNewHostKeys: boolean;
  parallel: string;
  wait: string;
  waitForSsh?: string;
  pollInterval: string;
  timeout: string;
  skipVerify?: boolean;
  forceNetwork?: boolean;
  prune?: boolean;
  maxUnavailable: string;
  drain?: boolean;
  nodeReadyTimeout: string;
  controlPlaneTimeout: string;
  drainTimeout: string;
  forceDrain?: boolean;
  output: string;
  events?: string;
  quiet: boolean;
  ignorePreflightErrors?: string;
}

interface UpProgress {
  step(e: UpEvent): void;
  /** a step's detail as it goes (the provider's polling, droplets created) */
  detail(step: string, message: string): void;
  /** a host's progress inside a step (apply's, or the control plane's on the masters and etcd members) */
  host(e: HostEvent, step?: string): void;
  close(): Promise<void>;
}

/**
 * How `up` shows its progress: listr2 rows (one per step) for a person at a terminal; `[k/n]`
 * lines otherwise (on stderr when stdout carries the JSON result); one event per stdout line
 * with --events ndjson; failures only with --quiet.
 */
function upProgress(io: Io, mode: 'terminal' | 'lines' | 'stderr' | 'quiet' | 'events', each: boolean): UpProgress {
  if (mode === 'events') {
    const started = Date.now();
    const event = (e: Omit<ProgressEvent, 'ms'>): void => io.out(JSON.stringify({ ...e, ms: Date.now() - started } satisfies ProgressEvent));
    return {
      step: (e) => event({ step: e.step, phase: e.step, status: e.status, message: e.message }),
      detail: (step, message) => event({ step, phase: step, status: 'running', message }),
      host: (e, step = 'apply') => event({ step, ...e }),
      close: async () => undefined,
    };
  }
  if (mode === 'terminal') {
    const list = new ProgressList(upSteps, false);
    return {
      step: (e) => (e.status === 'running' ? list.update(e.step, e.message) : list.end(e.step, e.status, e.message)),
      detail: (step, message) => list.update(step, message),
      host: (e, step = 'apply') => list.update(step, `${e.host}: ${e.phase === 'done' ? '' : `${e.phase}: `}${e.message.split('\n')[0]}`),
      close: () => list.close(),
    };
  }
  const say = mode === 'lines' ? io.out : mode === 'stderr' ? io.err : (): void => undefined;
  return {
    step: (e) => {
      const n = upSteps.indexOf(e.step) + 1;
      if (e.status === 'failed') io.err(`[${n}/${upSteps.length}] ${e.step}: failed: ${e.message}`);
      else say(`[${n}/${upSteps.length}] ${e.step}: ${e.status === 'skipped' ? 'skipped: ' : ''}${e.message}`);
    },
    detail: (_step, message) => say(`  ${message}`),
    host: (e) => {
      if (e.status === 'failed') io.err(`  ${e.host}: ${e.phase}: failed: ${e.message.split('\n')[0]}`);
      // more than perHostLimit hosts (without -v): the failures only; the step's line has the counts
      else if (e.phase === 'done' && each) say(`  ${e.host}: ${e.message}`);
    },
    close: async () => undefined,
  };
}

/** `each`: a row per host; otherwise (more than perHostLimit hosts, without -v) rows for the hosts that failed or were not reached, and the changed hosts' names. */
export function upSummaryLines(r: UpResult, each: boolean): string[] {
  const listed = each ? r.hosts : r.hosts.filter((h) => h.status === 'failed' || h.status === 'untouched');
  const rows = [['NODE', 'PUBLIC', 'PRIVATE', 'APPLY', 'ACTIONS'], ...listed.map((h) => [h.name, h.publicAddress ?? '-', h.privateAddress ?? '-', h.status, String(h.actions)])];
  const changedHosts = r.hosts.filter((h) => h.status === 'changed').map((h) => h.name);
  // planned: a host the run did not get to apply (it stopped at an earlier step)
  const counts = (['changed', 'unchanged', 'failed', 'untouched', 'planned'] as const).map((st) => [st === 'planned' ? 'not applied' : st, r.hosts.filter((h) => h.status === st).length] as const).filter(([, n]) => n > 0);
  const table = [
    ...(listed.length > 0 ? formatTable(rows) : []),
    ...(!each ? [`hosts: ${r.hosts.length}: ${counts.map(([st, n]) => `${n} ${st}`).join(', ')}${changedHosts.length > 0 ? `; changed: ${someNames(changedHosts)} (-v lists every host)` : ''}`] : []),
  ];
  const changed = [
    r.provision?.firewall && r.provision.firewall.action !== 'unchanged' ? `firewall ${r.provision.firewall.name} ${r.provision.firewall.action}` : undefined,
    r.provision && r.provision.created.length > 0 ? `${r.provision.created.length} hosts created` : undefined,
    r.pki && r.pki.issued.length > 0 ? `${r.pki.issued.length} certificates issued` : undefined,
    r.etcdCluster && r.etcdCluster.mode !== 'converge' ? `etcd cluster ${r.etcdCluster.mode === 'bootstrap' ? 'formed' : `joined by ${r.etcdCluster.added.join(', ')}`}` : undefined,
    r.controlPlane && r.controlPlane.masters.some((m) => m.status === 'changed') ? `${r.controlPlane.masters.filter((m) => m.status === 'changed').length} masters changed` : undefined,
    r.etcd && r.etcd.action !== 'unchanged' && r.etcd.action !== 'skipped' ? `flannel network config ${r.etcd.action}d` : undefined,
    r.hosts.some((h) => h.status === 'changed') ? `${r.hosts.filter((h) => h.status === 'changed').length} hosts changed` : undefined,
    r.dns && r.dns.some((o) => o.action !== 'unchanged') ? `${r.dns.filter((o) => o.action !== 'unchanged').length} DNS objects applied` : undefined,
    r.removal?.removed && r.removal.hosts.length > 0 ? `${r.removal.hosts.length} hosts drained and removed` : undefined,
  ].filter((x): x is string => x !== undefined);
  return [...table, r.ok ? `Up: ${changed.length === 0 ? 'nothing changed' : changed.join(', ')}.` : `Up stopped at ${r.failedStep}: ${r.error ?? ''}`];
}

export function registerUp(program: Command, io: Io): void {
  program
    .command('up')
    .description('the whole journey: hosts (provider) → PKI → (controlPlane section) etcd cluster → API servers → flannel config in etcd → apply → DNS addon → verify; safe to re-run')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--token-file <path>', 'DigitalOcean API token file (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .option('--lookup-token-file <path>', 'read-only DigitalOcean token placed on nodes for etcd-lookup (needed with etcd.discovery.digitaloceanTag)')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ssh.knownHostsPath (a changed key is always refused)', false)
    .option('--parallel <n>', 'hosts applied at once', '10')
    .option('--wait <duration>', 'how long verify keeps trying for nodes to become Ready (e.g. 90s, 5m; 0 checks once)', '2m')
    .option('--wait-for-ssh <duration>', 'keep retrying while new hosts\' sshd is not up yet (default 5m for DigitalOcean/Terraform hosts, 0 otherwise)')
    .option('--skip-verify', 'stop after the DNS addon')
    .option('--force-network', "change flannel's network config in etcd even though nodes hold leases (breaks running pods)")
    .option('--prune', 'drain and remove the hosts that left the spec (DigitalOcean workers with an index ≥ workers.count, lab machines beyond provider.lab.hosts, static hosts taken out of provider.static.hosts, hosts gone from the Terraform output): cordon, drain, reset, delete Node and flannel lease, then destroy the droplet, remove the lab machine or forget the host (Terraform\'s droplets are Terraform\'s to destroy)')
    .option('--max-unavailable <n>', maxUnavailableHelp, '1')
    .option('--drain', 'cordon and drain each host whose change restarts the kubelet or the runtime before its change (eviction API, PodDisruptionBudgets respected, DaemonSet pods skipped), uncordon it once it is back')
    .option('--node-ready-timeout <duration>', 'how long a restarted host\'s Node may take to be Ready with the new kubelet before the rollout stops', '5m')
    .option('--control-plane-timeout <duration>', 'with a controlPlane section: how long every kube-apiserver (each master and the endpoint) may take to answer /readyz', '3m')
    .option('--drain-timeout <duration>', 'with --prune or --drain: give up draining a node after this long (PodDisruptionBudgets may hold evictions back)', '5m')
    .option('--force-drain', 'with --prune or --drain: also evict pods no controller manages (they are not recreated anywhere)')
    .addOption(ignorePreflightErrorsOption())
    .option('--poll-interval <duration>', 'DigitalOcean: between list-by-tag polls while droplets boot', '5s')
    .option('--timeout <duration>', 'DigitalOcean: give up waiting for droplets to become active after this long', '10m')
    .addOption(outputOption())
    .addOption(eventsOption('step, host, phase, status, message, ms'))
    .option('-q, --quiet', 'no progress, only failures and the final report', false)
    .addHelpText(
      'after',
      `
Steps: ${upSteps.map((s, i) => `${i + 1}. ${s}`).join('  ')}
${upPhases.map((p) => `  ${p.name.padEnd(15)}${p.title}`).join('\n')}
Each step is idempotent, so after a failure fix the cause and run \`up\` again: it continues from
the current state, and a second \`up\` on a converged cluster changes nothing.
Progress: listr2 rows on a terminal; \`[k/n]\` lines otherwise (on stderr with -o json);
-q only failures; --events ndjson one JSON event per line (docs/events.md).
The remove step lists the hosts that left the spec; with --prune it takes them out one at a time:
cordon → drain through the Eviction API (DaemonSet and mirror pods stay; a PodDisruptionBudget
that forbids an eviction is retried until --drain-timeout) → reset the host → delete its Node and
flannel lease → destroy the droplet, remove the lab machine, or forget the static or Terraform
host (kubewright never destroys Terraform's droplets). The first failure stops it with
nothing destroyed after it; re-running continues. \`plan --prune\` shows these steps.
--drain asks the API server before anything is created and is refused (exit 2) when it does not
answer: a first \`up\` has no Nodes to drain, so it runs without --drain.
Exit codes: 1 a host, API or etcd failed; 2 bad input; 3 the cluster came up but verify failed.

Examples:
  DIGITALOCEAN_ACCESS_TOKEN=... kubewright up -f examples/digitalocean.yaml --lookup-token-file ro-token
  kubewright up -f lab.yaml --output json
`,
    )
    .action(async (opts: UpCliOptions, command: Command) => {
      eventsFlag(opts.events, opts.output);
      const ignorePreflightErrors = parseIgnorePreflightErrors(opts.ignorePreflightErrors);
      const waitMs = durationFlag('--wait', opts.wait, { allowZero: true, example: '90s, 5m or 1m30s' });
      const waitForSshMs = opts.waitForSsh === undefined ? undefined : durationFlag('--wait-for-ssh', opts.waitForSsh, { allowZero: true, example: '5m or 90s' });
      const pollIntervalMs = durationFlag('--poll-interval', opts.pollInterval, { allowZero: true, example: '5s or 500ms' });
      const deadlineMs = durationFlag('--timeout', opts.timeout, { example: '10m or 90s' });
      const drainTimeoutMs = durationFlag('--drain-timeout', opts.drainTimeout, { example: '5m or 90s' });
      const parallel = parseParallel(opts.parallel);
      const maxUnavailable = parseHostCount('--max-unavailable', opts.maxUnavailable, '1');
      const nodeReadyTimeoutMs = durationFlag('--node-ready-timeout', opts.nodeReadyTimeout, { example: '5m or 90s' });
      const controlPlaneReadyTimeoutMs = durationFlag('--control-plane-timeout', opts.controlPlaneTimeout, { example: '3m or 90s' });
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'up', opts.lockTimeout);
      const json = opts.output === 'json';
      const ndjson = opts.events === 'ndjson';
      const each = showEachHost(command, plannedHosts(cluster).length);
      const progress = upProgress(io, ndjson ? 'events' : opts.quiet ? 'quiet' : !json && io === processIo && onTerminal(io.isTTY) ? 'terminal' : json ? 'stderr' : 'lines', each);
      const { result, failure } = await runUp(cluster, {
        provider: {
          tokenFile: opts.tokenFile, apiUrl: opts.apiUrl, pollIntervalMs, deadlineMs,
          progress: (l) => progress.detail('provision', l),
          onEvent: (e) => { if (e.kind === 'create') progress.detail('provision', `creating ${e.names.join(', ')}`); },
        },
        lookupTokenFile: opts.lookupTokenFile,
        acceptNewHostKeys: opts.acceptNewHostKeys,
        parallel,
        verifyWaitMs: waitMs,
        waitForSshMs,
        skipVerify: opts.skipVerify ?? false,
        forceNetwork: opts.forceNetwork ?? false,
        prune: opts.prune ?? false,
        drainTimeoutMs,
        drainForce: opts.forceDrain ?? false,
        maxUnavailable,
        drainBeforeChange: opts.drain ?? false,
        nodeReadyTimeoutMs,
        controlPlaneReadyTimeoutMs,
        ignorePreflightErrors,
        onEvent: progress.step,
        onHostEvent: progress.host,
      });
      await progress.close();
      if (json) io.out(JSON.stringify(result, null, 2));
      else {
        // with --events, stdout carries only events
        const report = ndjson ? io.err : io.out;
        if (result.verify) for (const l of formatVerifyReport(result.verify)) report(l);
        for (const l of upSummaryLines(result, each)) report(l);
      }
      if (failure) throw failure;
    });
}

import { durationFlag } from '../duration-option.ts';
import { outputOption } from '../output-option.ts';
import type { Command } from 'commander';
import { ignorePreflightErrorsOption } from '../preflight-option.ts';
import { parseIgnorePreflightErrors } from '../../phases/preflight.ts';
import { InputError, KubewrightError } from '../../errors.ts';
import type { ProgressEvent } from '../../run/progress-event.ts';
import { eventsFlag, eventsOption } from '../events-option.ts';
import { describeError, groupedPlanText, perHostLimit, planText, preflightWarningLines, rolloutProgress, someNames, summarize, summaryLine } from '../../run/plan-report.ts';
import { resultEvent, summaryEvent } from '../../run/progress-event.ts';
import { showEachHost } from '../per-host-output.ts';
import { nodeCycleAfterProbe, refuseDrainWithoutApi, requireApiForDrain } from '../../run/node-ready.ts';
import { kubeConfigFor } from './verify.ts';
import { prepareRun } from '../../run/prepare-run.ts';
import { runHosts, type HostEvent, type HostOutcome } from '../../run/run-hosts.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { processIo, type Io } from '../io.ts';
import { onTerminal, ProgressList } from '../progress-list.ts';
import { formatTable } from '../table.ts';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { checkSkew, maxUnavailableHelp, parseHostCount, parseParallel } from './plan.ts';
import { planLinesFor } from '../plan-colour.ts';

function table(outcomes: readonly HostOutcome[]): string[] {
  const rows = outcomes.map((o) => [
    o.host,
    o.status,
    o.status === 'failed' || o.status === 'untouched' ? '-' : String(o.applied),
    `${(o.durationMs / 1000).toFixed(1)}s`,
    o.status === 'failed' || o.status === 'untouched' ? describeError(o.error, o.host).split('\n')[0] ?? '' : '',
  ]);
  return formatTable([['HOST', 'STATUS', 'ACTIONS', 'TIME', 'ERROR'], ...rows]);
}

type ProgressMode = 'terminal' | 'lines' | 'quiet';

/** listr2 when a person watches a terminal; plain `host: phase: message` lines otherwise (CI, pipes, tests); with quiet, failures only. */
async function withProgress(io: Io, hosts: string[], mode: ProgressMode, run: (onEvent: (e: HostEvent) => void) => Promise<HostOutcome[]>): Promise<HostOutcome[]> {
  if (mode !== 'terminal') {
    return run((e) => {
      if (e.status === 'failed') io.err(`${e.host}: ${e.phase}: failed: ${e.message.split('\n')[0]}`);
      else if (e.status === 'skipped') io.err(`${e.host}: ${e.phase}: ${e.message}`);
      else if (mode === 'lines') io.out(`${e.host}: ${e.phase === 'done' ? 'done' : e.phase}${e.phase === e.message ? '' : `: ${e.message}`}`);
    });
  }
  const list = new ProgressList(hosts, true);
  const outcomes = await run((e) => {
    const line = e.message.split('\n')[0] ?? '';
    if (e.status === 'failed' || e.status === 'skipped') list.end(e.host, e.status, `${e.phase}: ${line}`);
    else if (e.phase === 'done') list.end(e.host, 'ok', line);
    else list.update(e.host, `${e.phase}: ${line}`);
  });
  await list.close();
  return outcomes;
}

/** `done/total hosts (… changed, … unchanged, … failed)` */
function countLine(done: number, total: number, outcomes: readonly HostOutcome[]): string {
  const n = (s: HostOutcome['status']): number => outcomes.filter((o) => o.status === s).length;
  return `${done}/${total} hosts done: ${n('changed')} changed, ${n('unchanged')} unchanged, ${n('failed')} failed${n('untouched') > 0 ? `, ${n('untouched')} not reached` : ''}`;
}

/**
 * Progress over more hosts than perHostLimit (without -v): every failure as it happens (stderr),
 * and the counts instead of each host's phases: one listr2 row on a terminal, a line per tenth
 * of the hosts otherwise, nothing more with quiet.
 */
async function withCountProgress(io: Io, total: number, mode: ProgressMode, run: (onEvent: (e: HostEvent) => void, onOutcome: (o: HostOutcome) => void) => Promise<HostOutcome[]>): Promise<HostOutcome[]> {
  const finished: HostOutcome[] = [];
  const title = `${total} hosts`;
  const list = mode === 'terminal' ? new ProgressList([title], false) : undefined;
  let shownTenths = 0;
  const outcomes = await run(
    (e) => {
      if (e.status === 'failed') {
        if (list) list.update(title, `${e.host}: ${e.phase}: failed: ${e.message.split('\n')[0]}`);
        else io.err(`${e.host}: ${e.phase}: failed: ${e.message.split('\n')[0]}`);
      }
    },
    (o) => {
      finished.push(o);
      const line = countLine(finished.length, total, finished);
      if (list) list.update(title, line);
      else if (mode === 'lines' && Math.floor((finished.length * 10) / total) > shownTenths) {
        shownTenths = Math.floor((finished.length * 10) / total);
        io.out(line);
      }
    },
  );
  if (list) {
    const failed = outcomes.filter((o) => o.status === 'failed').length;
    list.end(title, failed > 0 ? 'failed' : 'ok', countLine(outcomes.length, total, outcomes));
    await list.close();
  }
  return outcomes;
}

export function registerApply(program: Command, io: Io): void {
  program
    .command('apply')
    .description('bring existing hosts to the rendered state over SSH: binaries, files, units; only what changed')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--parallel <n>', 'hosts worked on at once', '10')
    .option('--max-unavailable <n>', maxUnavailableHelp, '1')
    .option('--node-ready-timeout <duration>', 'how long a restarted host\'s Node may take to be Ready with the new kubelet before the rollout stops', '5m')
    .option('--kubeconfig <file>', 'ask the API server (version skew, Node readiness, drain) with this kubeconfig instead of the PKI\'s admin certificate')
    .option('--drain', 'cordon and drain each disruptive host\'s Node (eviction API, PodDisruptionBudgets respected, DaemonSet pods skipped) before its change, uncordon it once it is back', false)
    .option('--drain-timeout <duration>', 'how long one Node\'s drain may take before the rollout stops', '5m')
    .option('--force-drain', 'with --drain: also evict pods no controller manages (they are not recreated anywhere)', false)
    .option('--lookup-token-file <path>', 'read-only DigitalOcean token placed on nodes for etcd-lookup (needed with etcd.discovery.digitaloceanTag)')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in ssh.knownHostsPath (a changed key is always refused)', false)
    .option('--wait-for-ssh <duration>', 'keep retrying hosts whose sshd does not answer yet for this long (e.g. 5m)', '0')
    .option('--connect-timeout <duration>', 'how long one host\'s SSH connection (TCP and handshake) may take before the host fails as unreachable; dead hosts cost it once per --parallel slot, not one after another', '20s')
    .option('--wait-timeout <duration>', 'how long a (re)started unit may take to become active', '60s')
    .option('--checksum', 'hash every managed file on the hosts instead of trusting the recorded sha256 of files whose stat is unchanged', false)
    .addOption(ignorePreflightErrorsOption())
    .option('--show-plan', 'print the planned changes of each host before the table', false)
    .addOption(outputOption('text, or json: one line per host as it finishes (its actions, status, error), then one with the totals (docs/events.md)'))
    .addOption(eventsOption('host, phase, status, message, ms'))
    .option('-q, --quiet', 'no progress, only failures and the final table', false)
    .addHelpText(
      'after',
      `
Phases per host: connect → gather facts (one command) → prepare directories → binaries
(checksum-verified, cached, uploaded over SFTP) → files (atomic) → daemon-reload (only if a unit
changed) → enable + (re)start only the units whose files or binaries changed, in order → wait
until active → record the manifest (/var/lib/kubewright/manifest.json). Files, binaries and units
the spec no longer renders are pruned first (units stopped and disabled). A re-run with nothing
changed makes one SSH command per host, hashes no file whose stat matches the manifest (use
--checksum to hash them all) and restarts nothing.
Rollout: a host whose change restarts (or stops) a running kubelet or container runtime (a new
Kubernetes version, a changed kubelet or runtime binary, unit or config) is disruptive. Every
other host is applied first, --parallel at a time; then the disruptive hosts in host order, at
most --max-unavailable at a time (reconnected, the plan applied as made). After each batch,
apply waits until every Node in it is Ready, reports the new kubelet version and has posted its
status since the restart (--node-ready-timeout), then moves on. The first host that fails stops
the rollout: the error lists the hosts done, failed and untouched; fix the cause and re-run
apply (done hosts are a no-op, so the rollout resumes at the failed host). Nodes are waited for
only when the API server answers (else only the units are, and a note says so). With --drain,
each disruptive host's Node is cordoned and drained first (--drain-timeout; a drain that fails
stops the rollout with the Node left cordoned) and uncordoned once it is back; --drain asks the
API server first and is refused (exit 2) before any host is contacted when it does not answer.
Version skew: a kubelet newer than the API server's /version, or older than the policy allows
(3 minors from API server 1.28, 2 before), is refused with exit 2 before any host changes.
Exit 1 if any host failed; the other hosts are still completed (but not the rest of a rollout).
Output: up to ${perHostLimit} hosts (or with -v), each host's progress and a row per host; more
hosts: the counts every tenth of the way, each failure as it happens, and at the end a row per
failed host (with its error), the changed hosts' names and the totals. A host that refuses the
connection or never answers SSH fails after --connect-timeout at most and holds one --parallel
slot meanwhile. --output json streams: one JSON line per host as it finishes, then the totals.

Example:
  kubewright plan -f cluster.yaml && kubewright apply -f cluster.yaml
`,
    )
    .action(async (opts: { file: string; lockTimeout: string; parallel: string; maxUnavailable: string; nodeReadyTimeout: string; kubeconfig?: string; drain: boolean; drainTimeout: string; forceDrain: boolean; acceptNewHostKeys: boolean; lookupTokenFile?: string; waitTimeout: string; waitForSsh: string; connectTimeout: string; showPlan: boolean; checksum: boolean; output: string; events?: string; quiet: boolean; ignorePreflightErrors?: string }, command: Command) => {
      eventsFlag(opts.events, opts.output);
      const ignorePreflightErrors = parseIgnorePreflightErrors(opts.ignorePreflightErrors);
      const parallel = parseParallel(opts.parallel);
      const maxUnavailable = parseHostCount('--max-unavailable', opts.maxUnavailable, '1');
      const nodeReadyTimeoutMs = durationFlag('--node-ready-timeout', opts.nodeReadyTimeout, { example: '5m or 90s' });
      const drainTimeoutMs = durationFlag('--drain-timeout', opts.drainTimeout, { example: '5m or 90s' });
      if (opts.forceDrain && !opts.drain) throw new InputError('--force-drain: only with --drain', { hint: 'add --drain, or leave out --force-drain' });
      const waitActiveTimeoutSec = durationFlag('--wait-timeout', opts.waitTimeout, { example: '60s or 2m' }) / 1000;
      const waitForSshMs = durationFlag('--wait-for-ssh', opts.waitForSsh, { allowZero: true, example: '5m or 90s' });
      const connectTimeoutMs = durationFlag('--connect-timeout', opts.connectTimeout, { example: '20s or 5s' });
      const cluster = await loadClusterFile(opts.file);
      if (opts.drain) await requireApiForDrain(cluster, () => kubeConfigFor(cluster, opts.kubeconfig));
      await holdClusterLock(cluster, 'apply', opts.lockTimeout);
      const run = await prepareRun(cluster, {
        mode: 'apply', hosts: await providerFor(cluster).recorded(), acceptNewHostKeys: opts.acceptNewHostKeys, lookupTokenFile: opts.lookupTokenFile, waitForSshMs, connectTimeoutMs, ignorePreflightErrors,
      });
      const api = await checkSkew(cluster, run, opts.kubeconfig);
      if (api.note) run.notes.push(api.note);
      if (opts.drain) refuseDrainWithoutApi(api);
      const drain = opts.drain ? { timeoutMs: drainTimeoutMs, force: opts.forceDrain } : undefined;
      const nodeCycle = nodeCycleAfterProbe(cluster, api, run.kubernetesVersion, { timeoutMs: nodeReadyTimeoutMs, drain });
      const json = opts.output === 'json';
      // with --events, stdout carries only events: notes and the report go to stderr
      const report = opts.events === 'ndjson' ? io.err : io.out;
      if (!json) for (const n of run.notes) report(`note: ${n}`);
      const started = Date.now();
      const each = showEachHost(command, run.targets.length);
      const apply = (onEvent: (e: HostEvent) => void, onOutcome?: (o: HostOutcome) => void): Promise<HostOutcome[]> =>
        runHosts(run.targets, { mode: 'apply', parallel, maxUnavailable, nodeCycle, binaries: run.store, connect: run.connect, waitActiveTimeoutSec, checksum: opts.checksum, onEvent, onOutcome });
      const emit = (e: ProgressEvent): void => io.out(JSON.stringify(e));
      let outcomes: HostOutcome[];
      if (opts.events === 'ndjson') {
        outcomes = await apply((e) => emit({ ...e, ms: Date.now() - started }), (o) => emit(resultEvent(o, Date.now() - started)));
      } else if (json) {
        // one line per host as it finishes, then the totals (docs/events.md)
        outcomes = await apply(() => undefined, (o) => emit(resultEvent(o, Date.now() - started)));
      } else {
        const mode = opts.quiet ? 'quiet' : io === processIo && onTerminal(io.isTTY) ? 'terminal' : 'lines';
        outcomes = each ? await withProgress(io, run.targets.map((t) => t.host.name), mode, apply) : await withCountProgress(io, run.targets.length, mode, apply);
      }
      const summary = summarize(outcomes);
      if (json || opts.events === 'ndjson') emit(summaryEvent(outcomes, run.notes, Date.now() - started));
      if (!json) {
        if (opts.showPlan) for (const l of planLinesFor(io, each ? planText(outcomes) : groupedPlanText(outcomes))) report(l);
        const listed = each ? outcomes : outcomes.filter((o) => o.status === 'failed' || o.status === 'untouched');
        if (listed.length > 0) for (const l of table(listed)) report(l);
        if (!each) {
          const changed = outcomes.filter((o) => o.status === 'changed').map((o) => o.host);
          if (changed.length > 0) report(`changed: ${someNames(changed)} (-v lists every host)`);
        }
        for (const l of preflightWarningLines(outcomes, !each)) report(l);
        report(summaryLine('Apply', summary));
        const recorded = run.lock.additions();
        if (recorded.length > 0) report(`lockfile ${run.lock.path}: recorded ${recorded.length} new entr${recorded.length === 1 ? 'y' : 'ies'} (commit it with the spec)`);
      }
      const failed = outcomes.filter((o) => o.status === 'failed');
      if (failed.length > 0) {
        for (const o of failed) io.err(`${o.host}: ${describeError(o.error, o.host)}`);
        const rollout = rolloutProgress(outcomes);
        if (rollout.untouched.length > 0) {
          throw new KubewrightError(`apply stopped the rollout at ${someNames(failed.map((o) => o.host))}: done: ${someNames(rollout.done) || 'none'}; failed: ${someNames(failed.map((o) => o.host))}; untouched: ${someNames(rollout.untouched)}`, {
            hint: 'fix the cause shown for each failed host and re-run apply: hosts done are a no-op, and the rollout resumes with the failed and untouched hosts',
          });
        }
        throw new KubewrightError(`apply failed on ${failed.length} of ${outcomes.length} host(s): ${someNames(failed.map((o) => o.host))}`, {
          hint: 'fix the cause shown for each host and re-run apply; hosts that succeeded will be a no-op',
        });
      }
    });
}

import type { Command } from 'commander';
import { durationFlag } from '../duration-option.ts';
import { ignorePreflightErrorsOption } from '../preflight-option.ts';
import { parseIgnorePreflightErrors } from '../../phases/preflight.ts';
import { InputError, KubewrightError } from '../../errors.ts';
import { groupedPlanText, perHostLimit, planJson, planText, preflightWarningLines, rolloutText, someNames, summarize, summaryLine } from '../../run/plan-report.ts';
import { showEachHost } from '../per-host-output.ts';
import { prepareRun } from '../../run/prepare-run.ts';
import { runHosts } from '../../run/run-hosts.ts';
import { outputOption } from '../output-option.ts';
import { specPath } from '../../spec/spec-path.ts';
import { ExitStatus } from '../exit-status.ts';
import { planLinesFor } from '../plan-colour.ts';
import type { Io } from '../io.ts';
import type { Provider, ProviderPlan } from '../../providers/provider.ts';
import { resolveEtcdConnection } from '../../etcd/etcd-connection.ts';
import { dropletPrivateIpLister } from '../../providers/digitalocean/etcd-endpoints.ts';
import { planRetiredHostRemoval } from '../../run/remove-nodes.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { kubeConfigFor } from './verify.ts';
import { exposureWarnings } from '../../spec/firewall-rules.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { PreparedRun } from '../../run/prepare-run.ts';
import { checkKubeletSkew, type ApiServerProbe } from '../../run/version-skew.ts';
import { planControlPlaneHosts } from '../../run/plan-control-plane.ts';

/** A host count flag (--parallel, --max-unavailable): an integer from 1 to 1000. */
export function parseHostCount(flag: string, v: string, example: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InputError(`${flag}: must be an integer from 1 to 1000 (got ${v})`, { hint: `e.g. ${flag} ${example}` });
  return n;
}

export function parseParallel(v: string): number {
  return parseHostCount('--parallel', v, '10');
}

export const maxUnavailableHelp = 'hosts whose change restarts the kubelet or the container runtime taken out at once (the rollout)';

/** The version skew check (plan and apply): refuses a kubelet the API server's version does not allow; notes why it was skipped. */
export async function checkSkew(cluster: Cluster, run: PreparedRun, kubeconfigFile: string | undefined): Promise<ApiServerProbe> {
  return checkKubeletSkew(cluster, run.kubernetesVersion, () => kubeConfigFor(cluster, kubeconfigFile));
}

function firewallPlanLines(f: NonNullable<ProviderPlan['firewall']>): string[] {
  if (f.action === 'unchanged') return [`firewall ${f.name}: up to date (${f.id ?? ''})`];
  const head = f.action === 'create' ? `firewall ${f.name}: to create` : `firewall ${f.name}: to update (${f.id ?? ''})`;
  return [head, ...f.changes.map((c) => `  ${c}`)];
}

function loadBalancerPlanLine(l: NonNullable<ProviderPlan['loadBalancer']>): string {
  return l.action === 'create' ? `load balancer ${l.name}: to create (TCP 6443 to the masters' tag)` : `load balancer ${l.name}: exists (${l.id ?? ''}${l.ip ? `, ${l.ip}` : ''})`;
}

function dropletPlanLines(p: NonNullable<ProviderPlan['machines']>): string[] {
  const q = p.quota;
  return [
    p.toCreate.length === 0
      ? `droplets: all ${p.existing.length} exist, none to create`
      : `droplets: ${p.toCreate.length} to create in ${p.createCalls} call(s): ${someNames(p.toCreate)}${p.existing.length ? ` (${p.existing.length} exist)` : ''}`,
    ...(q && q.existing + p.toCreate.length > q.limit
      ? [`droplets: will not fit: the account's droplet limit is ${q.limit} and ${q.existing} droplets exist — ask DigitalOcean to raise it to at least ${q.existing + p.toCreate.length} (account settings, "Droplet limit"), or lower workers.count`]
      : []),
    ...(p.extras.length ? [`droplets: ${p.extras.length} beyond workers.count, kept (deleted only with up --prune): ${someNames(p.extras)}`] : []),
  ];
}

/** The steps `up --prune` would take for the hosts that left the spec; looks, changes nothing. */
async function planRemovalView(cluster: Cluster, provider: Provider, opts: { kubeconfig?: string | undefined; tokenFile?: string | undefined; forceDrain?: boolean | undefined }): Promise<{ hosts: string[]; steps: { host: string; kind: string; summary: string }[]; warnings: string[] }> {
  const { endpoints, digitaloceanTag } = cluster.etcd.discovery;
  const plan = await planRetiredHostRemoval(cluster, provider, {
    kubeConfig: () => kubeConfigFor(cluster, opts.kubeconfig),
    etcd: endpoints?.length || digitaloceanTag ? () => resolveEtcdConnection(cluster, { listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: opts.tokenFile }) }) : undefined,
  }, { drainTimeoutMs: 0, force: opts.forceDrain ?? false });
  await plan.close();
  return { hosts: plan.hosts, steps: plan.steps.map((s) => ({ host: s.host, kind: s.kind, summary: s.summary })), warnings: plan.warnings };
}

export function registerPlan(program: Command, io: Io): void {
  program
    .command('plan')
    .description('show what apply would change on each host: file diffs, binaries, unit restarts; changes nothing')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(outputOption())
    .option('--parallel <n>', 'hosts inspected at once', '10')
    .option('--connect-timeout <duration>', 'how long one host\'s SSH connection (TCP and handshake) may take before the host fails as unreachable', '20s')
    .option('--max-unavailable <n>', `${maxUnavailableHelp}: plan shows the rollout's batches`, '1')
    .option('--lookup-token-file <path>', 'read-only DigitalOcean token placed on nodes for etcd-lookup (needed with etcd.discovery.digitaloceanTag)')
    .option('--accept-new-host-keys', 'trust host keys not yet in ssh.knownHostsPath for this plan and show them (plan records nothing: apply and up pin them; a changed key is always refused)', false)
    .option('--detailed-exitcode', 'exit 0 when there is nothing to change, 2 when there are changes, 1 on an error (as terraform plan)', false)
    .option('--checksum', 'hash every managed file on the hosts instead of trusting the recorded sha256 of files whose stat is unchanged', false)
    .addOption(ignorePreflightErrorsOption())
    .option('--token-file <path>', 'DigitalOcean: API token file (default: $DIGITALOCEAN_ACCESS_TOKEN); plan only lists droplets')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .option('--prune', 'also show how `up --prune` would take out the hosts that left the spec: cordon, drain (which pods are evicted, skipped or refused), reset, delete Node and lease, destroy or forget; asks the Kubernetes API and the hosts, changes nothing')
    .option('--force-drain', 'with --prune: plan as `up --prune --force-drain` (pods without a controller evicted, not refused)')
    .option('--kubeconfig <file>', 'ask the API server (the version skew check; with --prune: Nodes and pods) with this kubeconfig instead of the PKI\'s admin certificate')
    .addHelpText(
      'after',
      `
DigitalOcean specs first show the workers' Cloud Firewall (to create, to update with its rule
changes, or up to date), with a controlPlane section the masters' (and external etcd's) firewall
and the API load balancer, and the droplets to create of every role (and extras up --prune would remove; with
--prune, each step of that removal). Every spec
gets a warning line for what kubewright leaves exposed (static and lab hosts have no firewall).
Per host: files to create or change with unified diffs (private keys shown as
<redacted sha256:…>), binaries to fetch, units to (re)start and why, and what the spec no longer
renders ("remove", units stopped and disabled). Costs one SSH command per
host (plus a read of each changed file for its diff). Exit 1 if a host could not be inspected.
More than ${perHostLimit} hosts (without -v): hosts whose actions read the same are shown once,
after their first host (\`w1 (+996): 12 change(s), the same on 997 hosts: …\`, with w1's
diffs); each host that could not be inspected still gets its own line.
With a controlPlane section the masters and etcd hosts are planned beside the workers, and
etcd's members are listed: in the cluster, or to add through the member API.
Hosts whose change restarts the kubelet or the container runtime are listed as the rollout:
the batches apply takes out one after the other (--max-unavailable per batch).
Version skew: when the API server answers /version, a kubelet newer than it, or older than the
policy allows (3 minors from API server 1.28, 2 before), is refused with exit 2.

Example:
  kubewright plan -f cluster.yaml
  kubewright plan -f cluster.yaml --output json | jq '.hosts[].actions[].summary'
`,
    )
    .action(async (opts: { file: string; output: string; parallel: string; maxUnavailable: string; acceptNewHostKeys: boolean; detailedExitcode: boolean; checksum: boolean; lookupTokenFile?: string; tokenFile?: string; apiUrl?: string; prune?: boolean; forceDrain?: boolean; kubeconfig?: string; connectTimeout: string; ignorePreflightErrors?: string }, command: Command) => {
      const ignorePreflightErrors = parseIgnorePreflightErrors(opts.ignorePreflightErrors);
      const parallel = parseParallel(opts.parallel);
      const connectTimeoutMs = durationFlag('--connect-timeout', opts.connectTimeout, { example: '20s or 5s' });
      const maxUnavailable = parseHostCount('--max-unavailable', opts.maxUnavailable, '1');
      const cluster = await loadClusterFile(opts.file);
      // what the provider would create (DigitalOcean: one list call), and the per-host plan of the hosts that exist
      const provider = providerFor(cluster, { tokenFile: opts.tokenFile, apiUrl: opts.apiUrl });
      const provided = await provider.plan();
      const removal = opts.prune ? await planRemovalView(cluster, provider, opts) : undefined;
      const droplets = provided.machines;
      const hosts = provided.hosts;
      const run = await prepareRun(cluster, { mode: 'plan', acceptNewHostKeys: opts.acceptNewHostKeys, lookupTokenFile: opts.lookupTokenFile, hosts, connectTimeoutMs, ignorePreflightErrors, digitalocean: { apiUrl: opts.apiUrl } });
      const api = await checkSkew(cluster, run, opts.kubeconfig);
      if (api.note) run.notes.push(api.note);
      // the masters and etcd hosts beside the workers, and etcd's members (existing / to add)
      const cp = await planControlPlaneHosts(cluster, hosts, run);
      run.notes.push(...cp.notes);
      const outcomes = await runHosts([...run.targets, ...cp.targets], { mode: 'plan', parallel, maxUnavailable, binaries: run.store, connect: run.connect, checksum: opts.checksum });
      const summary = summarize(outcomes);
      const knownHosts = specPath(cluster, cluster.ssh.knownHostsPath);
      const firewall = provided.firewall;
      const { controlPlaneFirewalls, loadBalancer } = provided;
      const warnings = exposureWarnings(cluster);
      // what apply will add to the lockfile: artifacts first fetched, a minor first resolved
      const lockfile = {
        path: run.lock.path,
        unrecorded: run.store.unlockedUrls(),
        kubernetes: run.lock.additions().filter((a) => a.startsWith('kubernetes ')).map((a) => a.slice('kubernetes '.length)).map((minor) => ({ minor, version: run.lock.kubernetes(minor) })),
      };
      if (opts.output === 'json') io.out(JSON.stringify({ ...(firewall ? { firewall } : {}), ...(controlPlaneFirewalls ? { controlPlaneFirewalls } : {}), ...(loadBalancer ? { loadBalancer } : {}), ...(droplets ? { droplets } : {}), ...(removal ? { removal } : {}), ...(cp.etcd ? { etcdMembers: cp.etcd } : {}), warnings, lockfile, ...(planJson(outcomes, run.notes) as object), ...(run.newHostKeys.length ? { newHostKeys: run.newHostKeys } : {}) }, null, 2));
      else {
        for (const f of [...(firewall ? [firewall] : []), ...(controlPlaneFirewalls ?? [])]) for (const l of firewallPlanLines(f)) io.out(l);
        if (loadBalancer) io.out(loadBalancerPlanLine(loadBalancer));
        if (droplets) for (const l of dropletPlanLines(droplets)) io.out(l);
        if (cp.etcd) io.out(cp.etcd.running ? `etcd members: ${cp.etcd.existing.length} in the cluster${cp.etcd.existing.length ? ` (${someNames(cp.etcd.existing)})` : ''}${cp.etcd.toAdd.length ? `; to add through the member API, one at a time: ${someNames(cp.etcd.toAdd)}` : ''}` : `etcd members: no cluster answers: up bootstraps ${someNames(cp.etcd.toAdd)}`);
        if (removal) {
          io.out(removal.hosts.length === 0 ? 'remove: no host left the spec' : `remove: ${removal.hosts.length} host(s) left the spec, taken out one at a time by up --prune: ${removal.hosts.join(', ')}`);
          for (const st of removal.steps) io.out(`remove: ${st.host}: ${st.summary}`);
          for (const w of removal.warnings) io.out(`warning: ${w}`);
        }
        for (const w of warnings) io.out(`warning: ${w}`);
        for (const n of run.notes) io.out(`note: ${n}`);
        for (const k of run.newHostKeys) io.out(`${k.host}: new host key ${k.keyType} ${k.fingerprint}: trusted for this plan only; apply or up with --accept-new-host-keys pins it in ${knownHosts}`);
        for (const k of lockfile.kubernetes) io.out(`lockfile ${lockfile.path}: + kubernetes ${k.minor} → ${k.version ?? '?'} (recorded by apply)`);
        if (lockfile.unrecorded.length > 0) {
          io.out(`lockfile ${lockfile.path}: ${lockfile.unrecorded.length} artifact(s) not recorded yet; apply records each when it first fetches it (checksum trusted on first use)`);
          for (const u of lockfile.unrecorded) io.out(`lockfile:   + ${u}`);
        }
        const each = showEachHost(command, outcomes.length);
        for (const l of preflightWarningLines(outcomes, !each)) io.out(l);
        for (const l of planLinesFor(io, each ? planText(outcomes) : groupedPlanText(outcomes))) io.out(l);
        for (const l of rolloutText(outcomes, maxUnavailable, api.reachable !== undefined, each ? Infinity : 10)) io.out(l);
        io.out(summaryLine('Plan', summary));
      }
      if (summary.failed > 0) {
        throw new KubewrightError(`plan: ${summary.failed} of ${summary.hosts} host(s) could not be inspected: ${outcomes.filter((o) => o.status === 'failed').map((o) => o.host).join(', ')}`, {
          hint: 'see the host lines above',
        });
      }
      const changes = summary.changed > 0 || (droplets?.toCreate.length ?? 0) > 0 || loadBalancer?.action === 'create' || run.newHostKeys.length > 0 || (removal?.steps.length ?? 0) > 0;
      if (opts.detailedExitcode && changes) throw new ExitStatus(2);
    });
}

import type { Command } from 'commander';
import { InputError, KubewrightError } from '../../errors.ts';
import { resolveEtcdConnection } from '../../etcd/etcd-connection.ts';
import type { Executor } from '../../exec/executor.ts';
import { MANIFEST_PATH } from '../../phases/host-manifest.ts';
import { applyReset, planReset, type ResetPlan } from '../../phases/reset-host.ts';
import { dropletPrivateIpLister } from '../../providers/digitalocean/etcd-endpoints.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { connectHost, sshOptionsFor } from '../../run/connect.ts';
import { planForget } from '../../run/forget-nodes.ts';
import { describeError } from '../../run/plan-report.ts';
import type { Host } from '../../spec/host.ts';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';
import { confirmOnTerminal } from '../confirm.ts';
import { kubeConfigFor } from './verify.ts';
import { planEtcdMemberRemoval } from '../../run/etcd-member-removal.ts';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerReset(program: Command, io: Io): void {
  program
    .command('reset')
    .description('undo apply on hosts: stop and disable kubewright\'s units, remove every file, binary and directory the on-host manifest lists (nothing else), delete the Node objects and flannel leases')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--host <name>', 'reset only this host (repeatable; default: every host of the cluster)', collect, [] as string[])
    .option('--dry-run', 'show what would be stopped, removed and deleted; change nothing', false)
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--delete-etcd-data', 'also remove /var/lib/etcd on etcd members (their copy of the cluster\'s data; kept by default)', false)
    .option('--kubeconfig <file>', 'delete Nodes with this kubeconfig instead of the PKI\'s admin certificate')
    .option('--token-file <path>', 'DigitalOcean token to find etcd by etcd.discovery.digitaloceanTag (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .addOption(lockTimeoutOption())
    .addHelpText(
      'after',
      `
Per host, from /var/lib/kubewright/manifest.json (what apply recorded): stop and disable the
units, remove the files and binaries, daemon-reload, remove the manifest, then the directories
kubewright created if they are empty. A host without a manifest has nothing to reset (a second
reset is a no-op). Then the hosts' Node objects and flannel subnet leases are deleted; an
unreachable API server or etcd is a warning, not a failure. The hosts stay (see \`down\`).
Control plane: a master's units and files go like a worker's. An etcd member reset while other
members stay first leaves the cluster through the member API (refused, and nothing reset, when
the members left would lose quorum); resetting every member takes no member out. etcd's data in
/var/lib/etcd stays unless --delete-etcd-data: it is the cluster's state, and a later up can
start from it.
Exit 1 if any host failed; the other hosts are still reset.

Example:
  kubewright reset -f cluster.yaml --host w2 --dry-run
  kubewright reset -f cluster.yaml --host w2 --yes
`,
    )
    .action(async (opts: { file: string; host: string[]; dryRun: boolean; yes?: boolean; deleteEtcdData: boolean; kubeconfig?: string; tokenFile?: string; lockTimeout: string }) => {
      const cluster = await loadClusterFile(opts.file);
      if (!opts.dryRun) await holdClusterLock(cluster, 'reset', opts.lockTimeout);
      const all = await providerFor(cluster).recorded();
      const unknown = opts.host.filter((n) => !all.some((h) => h.name === n));
      if (unknown.length > 0) {
        throw new InputError(`--host: no host named ${unknown.join(', ')} in ${cluster.sourceFile}`, { hint: `the hosts are: ${all.map((h) => h.name).join(', ') || '(none recorded)'}` });
      }
      const hosts: Host[] = opts.host.length > 0 ? all.filter((h) => opts.host.includes(h.name)) : all;
      const ssh = hosts.length > 0 ? await sshOptionsFor(cluster, false) : undefined;
      const conns = new Map<string, Executor>();
      const plans: ResetPlan[] = [];
      const failures: { host: string; error: unknown }[] = [];
      try {
        for (const h of hosts) {
          try {
            const x = await connectHost(h, { ...ssh!, recordNewHostKeys: false });
            conns.set(h.name, x);
            plans.push(await planReset(x, { etcdData: opts.deleteEtcdData }));
          } catch (e) {
            failures.push({ host: h.name, error: e });
          }
        }
        const { endpoints, digitaloceanTag } = cluster.etcd.discovery;
        const forget = await planForget(cluster, hosts, {
          kubeConfig: () => kubeConfigFor(cluster, opts.kubeconfig),
          etcd: endpoints?.length || digitaloceanTag ? () => resolveEtcdConnection(cluster, { listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: opts.tokenFile }) }) : undefined,
        });
        const pending = plans.filter((p) => p.steps.length > 0);
        // etcd members reset while the rest of their cluster stays leave it first, through the member API
        const leaving = await planEtcdMemberRemoval(cluster, all, hosts);
        for (const l of leaving.steps) io.out(`cluster: ${l.summary}`);
        for (const w of leaving.warnings) io.err(`warning: ${w}`);
        for (const p of plans) {
          if (p.steps.length === 0) io.out(`${p.host}: nothing to reset (no ${MANIFEST_PATH})`);
          for (const s of p.steps) io.out(`${p.host}: ${s.summary}`);
          if (p.keptEtcdData) io.out(`${p.host}: ${p.keptEtcdData} kept (etcd's data: --delete-etcd-data removes it)`);
        }
        for (const s of forget.steps) io.out(`cluster: ${s.summary}`);
        for (const w of forget.warnings) io.err(`warning: ${w}`);
        for (const f of failures) io.err(`${f.host}: ${describeError(f.error, f.host)}`);
        const count = pending.reduce((n, p) => n + p.steps.length, 0) + forget.steps.length + leaving.steps.length;
        if (opts.dryRun || count === 0) {
          io.out(opts.dryRun ? `Dry run: ${count} change(s) on ${pending.length} host(s) and the cluster; nothing changed.` : 'Reset: nothing to do.');
        } else {
          const question = `reset ${pending.map((p) => p.host).join(', ') || 'no host'}${forget.steps.length > 0 ? ` and ${forget.steps.length} cluster object(s)` : ''}?`;
          if (!opts.yes) {
            if (!process.stdin.isTTY) throw new InputError(`reset: refusing to ${question.slice(0, -1)} without confirmation`, { hint: 'look at the plan above (or --dry-run), then re-run with --yes' });
            if (!(await confirmOnTerminal(`${question} type yes: `))) {
              io.out('Reset: cancelled, nothing changed.');
              return;
            }
          }
          // a refused removal (it would cost the quorum) stops the reset before any host changes
          for (const l of leaving.steps) io.out(`cluster: ${await l.run()}`);
          for (const p of pending) {
            try {
              const n = await applyReset(conns.get(p.host)!, p);
              io.out(`${p.host}: reset (${n} step(s))`);
            } catch (e) {
              failures.push({ host: p.host, error: e });
              io.err(`${p.host}: ${describeError(e, p.host)}`);
            }
          }
          for (const s of forget.steps) {
            try {
              io.out(`cluster: ${await s.run()}`);
            } catch (e) {
              io.err(`warning: ${s.summary}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
            }
          }
          io.out(`Reset: ${pending.length - failures.filter((f) => pending.some((p) => p.host === f.host)).length} host(s) reset, ${failures.length} failed.`);
        }
      } finally {
        for (const x of conns.values()) await x.close().catch(() => undefined);
      }
      if (failures.length > 0) {
        throw new KubewrightError(`reset failed on ${failures.length} of ${hosts.length} host(s): ${failures.map((f) => f.host).join(', ')}`, {
          hint: 'fix the cause shown for each host and re-run reset; hosts already reset have nothing left to do',
        });
      }
    });
}

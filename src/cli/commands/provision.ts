import type { Command } from 'commander';
import type { EnsureEvent } from '../../providers/digitalocean/ensure-workers.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { durationFlag } from '../duration-option.ts';
import { outputOption } from '../output-option.ts';
import type { Io } from '../io.ts';

interface ProvisionOptions {
  file: string;
  lockTimeout: string;
  tokenFile?: string;
  apiUrl?: string;
  output: string;
  prune?: boolean;
  pollInterval: string;
  timeout: string;
}

function describeEvent(e: EnsureEvent): string[] {
  switch (e.kind) {
    case 'create':
      return e.names.map((n) => `${n}: creating droplet`);
    case 'create-uncertain':
      return e.names.map((n) => `${n}: create outcome unknown; listed by tag before trying again`);
    case 'prune':
      return e.names.map((n) => `${n}: deleting (--prune)`);
    case 'extra':
      return e.names.map((n) => `${n}: beyond workers.count; kept (pass --prune to delete it)`);
    case 'poll':
      return e.names.length > 0 ? [`waiting for ${e.names.length} droplets to become active`] : [];
    case 'found':
      return [];
  }
}

export function registerProvision(program: Command, io: Io): void {
  program
    .command('provision')
    .description('the provider step alone: ensure the worker hosts exist (DigitalOcean: create only what is missing) and print them')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--token-file <path>', 'file holding the DigitalOcean API token (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .addOption(outputOption())
    .option('--prune', 'delete workers whose index is ≥ workers.count (highest index first)')
    .option('--poll-interval <duration>', 'between list-by-tag polls while droplets boot', '5s')
    .option('--timeout <duration>', 'give up waiting for droplets to become active after this long', '10m')
    .addHelpText(
      'after',
      `
Re-running creates nothing: droplets are found by tag and name. Each new droplet gets an SSH host
key generated here (kept in .kubewright/<cluster>/hostkeys/ next to the spec) and pinned in
ssh.knownHostsPath, so the first SSH connection is verified.

Example:
  DIGITALOCEAN_ACCESS_TOKEN=... kubewright provision -f examples/digitalocean.yaml --output json
`,
    )
    .action(async (opts: ProvisionOptions) => {
      const pollIntervalMs = durationFlag('--poll-interval', opts.pollInterval, { allowZero: true, example: '5s or 500ms' });
      const deadlineMs = durationFlag('--timeout', opts.timeout, { example: '10m or 90s' });
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'provision', opts.lockTimeout);
      const p = cluster.provider;
      const { hosts, report } = await providerFor(cluster, {
        tokenFile: opts.tokenFile, apiUrl: opts.apiUrl, prune: opts.prune ?? false, pollIntervalMs, deadlineMs,
        onEvent: (e) => describeEvent(e).forEach((l) => io.err(l)),
        progress: (l) => io.err(l),
      }).ensure();
      for (const f of [...(report.firewall ? [report.firewall] : []), ...(report.controlPlaneFirewalls ?? [])]) io.err(`firewall ${f.name}: ${f.action} (${f.id})`);
      if (report.loadBalancer) io.err(`load balancer ${report.loadBalancer.name}: ${report.loadBalancer.action} (${report.loadBalancer.id}, ${report.loadBalancer.ip})`);
      for (const n of report.unpinned) {
        const why = p.kind === 'terraform' ? 'the terraform output has no host key for it' : 'not created by kubewright, its host key is not pinned';
        io.err(`${n}: ${why} — add it to ${cluster.ssh.knownHostsPath} yourself`);
      }
      if (opts.output === 'json') {
        io.out(JSON.stringify({ cluster: cluster.name, provider: p.kind, hosts, ...report }, null, 2));
        return;
      }
      for (const h of hosts) io.out(`${h.name}  public ${h.publicAddress ?? h.address ?? '-'}  private ${h.privateAddress ?? '-'}`);
      io.out(`${hosts.length} hosts ready (${report.created.length} created)`);
    });
}

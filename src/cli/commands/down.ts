import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';
import { confirmOnTerminal } from '../confirm.ts';

export function registerDown(program: Command, io: Io): void {
  program
    .command('down')
    .description('destroy the provider\'s hosts: the DigitalOcean droplets carrying the pool tag (provider.digitalocean.tags[0]) as listed and shown, deleted by id, or the lab machines')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--all-tagged', 'also delete tagged droplets whose names are not this cluster\'s workers')
    .option('--token-file <path>', 'file holding the DigitalOcean API token (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .addHelpText('after', '\nExample:\n  kubewright down -f examples/digitalocean.yaml --yes\n')
    .action(async (opts: { file: string; lockTimeout: string; yes?: boolean; allTagged?: boolean; tokenFile?: string; apiUrl?: string }) => {
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'down', opts.lockTimeout);
      const provider = providerFor(cluster, { tokenFile: opts.tokenFile, apiUrl: opts.apiUrl, allTagged: opts.allTagged ?? false });
      const result = await provider.destroy(async (t) => {
        for (const i of t.items) io.err(`${i.name}: ${i.detail}`);
        if (opts.yes) return true;
        if (!process.stdin.isTTY) throw new InputError(`down: refusing to ${t.summary} without confirmation`, { hint: t.hint });
        return confirmOnTerminal(`${t.question} type yes: `);
      });
      io.out(result.message);
    });
}

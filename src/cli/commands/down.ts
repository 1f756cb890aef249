import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { openDigitalOceanClient } from '../../providers/digitalocean/open-client.ts';
import { workerNameRegExp } from '../../providers/digitalocean/ensure-workers.ts';
import { DigitalOceanProvider } from '../../providers/digitalocean/provider.ts';
import { LabProvider } from '../../providers/lab/lab-provider.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';

async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

export function registerDown(program: Command, io: Io): void {
  program
    .command('down')
    .description('destroy the provider\'s hosts: the DigitalOcean droplets carrying the pool tag (provider.digitalocean.tags[0]) as listed and shown, deleted by id, or the lab machines')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--all-tagged', 'also delete tagged droplets whose names are not this cluster\'s workers')
    .option('--token-file <path>', 'file holding the DigitalOcean API token (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .addHelpText('after', '\nExample:\n  kubewright down -f examples/digitalocean.yaml --yes\n')
    .action(async (opts: { file: string; yes?: boolean; allTagged?: boolean; tokenFile?: string; apiUrl?: string }) => {
      const cluster = await loadClusterFile(opts.file);
      const p = cluster.provider;
      if (p.kind === 'lab') {
        const lab = new LabProvider(cluster);
        const running = (await lab.hosts()).filter((h) => h.address).map((h) => h.name);
        for (const n of running) io.err(`${n}: will be stopped and removed (lab machine)`);
        if (!opts.yes) {
          if (!process.stdin.isTTY) throw new InputError(`down: refusing to remove the lab of cluster ${cluster.name} without confirmation`, { hint: 'pass --yes (or use `kubewright lab down`, which asks nothing)' });
          if (!(await confirmOnTerminal(`remove the lab of cluster ${cluster.name} (machines, bridge ${p.bridge}, addresses)? type yes: `))) {
            io.out('nothing removed');
            return;
          }
        }
        await lab.destroy();
        io.out(`lab ${cluster.name}: ${running.length} machines, bridge ${p.bridge} and its addresses removed`);
        return;
      }
      if (p.kind !== 'digitalocean') {
        throw new InputError(`down: provider.${p.kind} hosts are not created by kubewright`, {
          hint: p.kind === 'terraform' ? 'run `terraform destroy` where main.tf.json lives' : 'remove the hosts yourself',
        });
      }
      const tag = p.tags[0] ?? '';
      const client = await openDigitalOceanClient({ tokenFile: opts.tokenFile, apiUrl: opts.apiUrl });
      const provider = new DigitalOceanProvider({ cluster, client });
      const doomed = await provider.taggedDroplets();
      if (doomed.length === 0) {
        io.out(`no droplets tagged ${tag}: nothing to delete`);
        return;
      }
      // DELETE by tag takes every droplet with the tag: refuse when that reaches beyond this cluster's workers
      const ours = workerNameRegExp(p);
      const foreign = doomed.filter((d) => !ours.test(d.name)).map((d) => d.name);
      if (foreign.length > 0 && !opts.allTagged) {
        const shown = foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')} and ${foreign.length - 5} more` : foreign.join(', ');
        throw new InputError(`down: ${foreign.length} droplets tagged ${tag} are not workers of cluster ${cluster.name} (${shown}); deleting by tag would remove them too`, {
          hint: 'give this pool its own first tag in provider.digitalocean.tags, or pass --all-tagged to delete them as well',
        });
      }
      for (const d of doomed) io.err(`${d.name}: will be deleted (tag ${tag}, id ${d.id})`);
      if (!opts.yes) {
        if (!process.stdin.isTTY) {
          throw new InputError(`down: refusing to delete ${doomed.length} droplets tagged ${tag} without confirmation`, { hint: 'pass --yes to confirm (no terminal to ask on)' });
        }
        if (!(await confirmOnTerminal(`delete ${doomed.length} droplets tagged ${tag}? type yes: `))) {
          io.out('nothing deleted');
          return;
        }
      }
      await provider.destroy(doomed);
      io.out(`deleted ${doomed.length} droplets tagged ${tag}`);
    });
}

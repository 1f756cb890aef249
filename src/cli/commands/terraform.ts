import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { renderTerraformJson } from '../../render/terraform.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';

export function registerTerraform(program: Command, io: Io): void {
  program
    .command('terraform')
    .description('write Terraform JSON (main.tf.json) for the worker droplets, for teams that keep infrastructure in Terraform')
    .requiredOption('-f, --file <path>', 'cluster spec (provider.digitalocean)')
    .option('--out <dir>', 'directory for main.tf.json', 'terraform')
    .addHelpText(
      'after',
      `
Then: cd <dir> && terraform init && terraform apply && terraform output -json > hosts.json
and point a spec at it with provider.terraform.outputFile: <dir>/hosts.json.

Example:
  kubewright terraform -f examples/seed.yaml --out terraform
`,
    )
    .action(async (opts: { file: string; out: string }) => {
      const cluster = await loadClusterFile(opts.file);
      if (cluster.provider.kind !== 'digitalocean') {
        throw new InputError(`terraform: needs provider.digitalocean (the spec has provider.${cluster.provider.kind})`, { hint: 'Terraform JSON is rendered from provider.digitalocean' });
      }
      const path = join(opts.out, 'main.tf.json');
      await writeFileAtomic(path, renderTerraformJson(cluster));
      io.out(`${path}: written (${cluster.workers.count} droplets, provider digitalocean/digitalocean)`);
    });
}

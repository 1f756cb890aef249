import type { Command } from 'commander';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { renderKubeconfig } from '../../render/kubeconfig.ts';
import { readAdminCredentials } from '../../verify/admin-credentials.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';

export function registerKubeconfig(program: Command, io: Io): void {
  program
    .command('kubeconfig')
    .description('write an admin kubeconfig (the PKI\'s admin certificate, embedded) for kubectl')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--out <file>', 'write here (mode 0600) instead of standard output')
    .addHelpText(
      'after',
      `
The kubeconfig embeds the cluster CA and the admin client certificate and key (O system:masters):
keep it private.

Example:
  kubewright kubeconfig -f cluster.yaml --out admin.kubeconfig
  KUBECONFIG=admin.kubeconfig kubectl get nodes
`,
    )
    .action(async (opts: { file: string; out?: string }) => {
      const cluster = await loadClusterFile(opts.file);
      const creds = await readAdminCredentials(cluster);
      const text = renderKubeconfig({
        clusterName: cluster.name,
        server: cluster.kubernetes.apiServer,
        user: 'admin',
        context: `admin@${cluster.name}`,
        ca: { pem: creds.caPem },
        client: { certPem: creds.admin.certPem, keyPem: creds.admin.keyPem },
      });
      if (opts.out) {
        await writeFileAtomic(opts.out, text, 0o600);
        io.err(`wrote ${opts.out} (context admin@${cluster.name}, server ${cluster.kubernetes.apiServer})`);
      } else io.out(text.trimEnd());
    });
}

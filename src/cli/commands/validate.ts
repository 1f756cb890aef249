// `kubewright validate -f`: the spec check alone (schema and cross-field rules), exit 0 or 2.
import type { Command } from 'commander';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import type { Io } from '../io.ts';

export function registerValidate(program: Command, io: Io): void {
  program
    .command('validate')
    .description('check a cluster spec (fields, types, cross-field rules) without touching anything: exit 0 valid, 2 invalid')
    .requiredOption('-f, --file <path>', 'cluster spec (- reads it from standard input)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Every problem is listed with its field path. Nothing is read besides the spec: no PKI, no hosts.

Examples:
  kubewright validate -f cluster.yaml
  cat cluster.yaml | kubewright validate -f -
`,
    )
    .action(async (opts: { file: string; output: OutputFormat }) => {
      const cluster = await loadClusterFile(opts.file);
      const summary = {
        file: opts.file, valid: true, cluster: cluster.name, profile: cluster.profile, provider: cluster.provider.kind,
        kubernetes: `${cluster.kubernetes.version.major}.${cluster.kubernetes.version.minor}`,
      };
      if (opts.output === 'json') io.out(JSON.stringify(summary, null, 2));
      else io.out(`${opts.file}: valid (cluster ${summary.cluster}, ${summary.profile} profile, provider ${summary.provider}, Kubernetes ${summary.kubernetes})`);
    });
}

// `kubewright version [-o json]`: the version for people and for scripts (as `kubectl version --client -o json`).
import type { Command } from 'commander';
import type { Io } from '../io.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import { packageVersion } from '../package-version.ts';

export function registerVersion(program: Command, io: Io): void {
  program
    .command('version')
    .description('print the kubewright version (and Node.js, platform)')
    .addOption(outputOption())
    .addHelpText('after', '\nExample:\n  kubewright version -o json | jq -r .kubewright\n')
    .action((opts: { output: OutputFormat }) => {
      const info = { kubewright: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
      if (opts.output === 'json') io.out(JSON.stringify(info, null, 2));
      else io.out(`kubewright ${info.kubewright} (node ${info.node}, ${info.platform})`);
    });
}

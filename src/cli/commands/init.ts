import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { starterSpec } from '../../spec/starter.ts';
import type { Io } from '../io.ts';

export function registerInit(program: Command, io: Io): void {
  program
    .command('init')
    .description('write a commented starter cluster.yaml (static hosts; no cloud account needed)')
    .option('-f, --file <path>', 'where to write the spec', 'cluster.yaml')
    .option('--force', 'overwrite an existing file that differs from the starter')
    .addHelpText('after', '\nExample:\n  kubewright init && kubewright render -f cluster.yaml --out rendered\n')
    .action(async (opts: { file: string; force?: boolean }) => {
      const existing = await readFile(opts.file, 'utf8').catch(() => undefined);
      if (existing === starterSpec) {
        io.out(`${opts.file}: already the starter spec, unchanged`);
        return;
      }
      if (existing !== undefined && !opts.force) {
        throw new InputError(`init: ${opts.file} already exists`, { hint: 'pass --force to overwrite it, or -f another path' });
      }
      await writeFileAtomic(opts.file, starterSpec);
      io.out(`${opts.file}: written — edit it, then run \`kubewright render -f ${opts.file} --out rendered\``);
    });
}

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { clusterJsonSchema, jsonSchemaFileName } from '../../spec/json-schema.ts';
import { starterSpec } from '../../spec/starter.ts';
import type { Io } from '../io.ts';

export function registerInit(program: Command, io: Io): void {
  program
    .command('init')
    .description('write a commented starter cluster.yaml (static hosts; no cloud account needed) and its JSON Schema for editors')
    .option('-f, --file <path>', 'where to write the spec', 'cluster.yaml')
    .option('--force', 'overwrite an existing file that differs from the starter')
    .addHelpText('after', `
The spec's first line, \`# yaml-language-server: $schema=./${jsonSchemaFileName}\`, lets editors complete
and check it against ${jsonSchemaFileName}, written beside it (refresh it with \`kubewright schema\`).

Example:
  kubewright init && kubewright render -f cluster.yaml --out rendered
`)
    .action(async (opts: { file: string; force?: boolean }) => {
      // the schema the spec's first line names: (re)written when it differs, e.g. after an upgrade
      const schemaPath = join(dirname(opts.file), jsonSchemaFileName);
      const schema = `${JSON.stringify(clusterJsonSchema(), null, 2)}\n`;
      const writeSchema = async (): Promise<void> => {
        if ((await readFile(schemaPath, 'utf8').catch(() => undefined)) !== schema) await writeFileAtomic(schemaPath, schema);
      };
      const existing = await readFile(opts.file, 'utf8').catch(() => undefined);
      if (existing === starterSpec) {
        await writeSchema();
        io.out(`${opts.file}: already the starter spec, unchanged`);
        return;
      }
      if (existing !== undefined && !opts.force) {
        throw new InputError(`init: ${opts.file} already exists`, { hint: 'pass --force to overwrite it, or -f another path' });
      }
      await writeFileAtomic(opts.file, starterSpec);
      await writeSchema();
      io.out(`${opts.file}: written — edit it, then run \`kubewright render -f ${opts.file} --out rendered\``);
    });
}

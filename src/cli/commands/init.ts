import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { writeFileAtomic } from '../../local-disk/atomic-write.ts';
import { clusterJsonSchema, jsonSchemaFileName } from '../../spec/json-schema.ts';
import { starterSpec } from '../../spec/starter.ts';
import type { Io } from '../io.ts';

// keys (pki.dir, 0600) and local state (host keys, the lock) must never reach a repository
const ignored = ['/pki/', '/.kubewright/'];

/** Adds the lines `ignored` to the .gitignore beside the spec, keeping whatever else it holds. */
async function writeGitignore(dir: string): Promise<void> {
  const path = join(dir, '.gitignore');
  const current = await readFile(path, 'utf8').catch(() => '');
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const missing = ignored.filter((l) => !have.has(l) && !have.has(l.replace(/^\//, '')) && !have.has(l.replace(/\/$/, '')));
  if (missing.length === 0) return;
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  await writeFileAtomic(path, `${current}${sep}# kubewright: private keys and local state stay out of git\n${missing.join('\n')}\n`);
}

export function registerInit(program: Command, io: Io): void {
  program
    .command('init')
    .description('write a commented starter cluster.yaml (static hosts; no cloud account needed), its JSON Schema for editors, and a .gitignore for pki/ and .kubewright/')
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
        await writeGitignore(dirname(opts.file));
        io.out(`${opts.file}: already the starter spec, unchanged`);
        return;
      }
      if (existing !== undefined && !opts.force) {
        throw new InputError(`init: ${opts.file} already exists`, { hint: 'pass --force to overwrite it, or -f another path' });
      }
      await writeFileAtomic(opts.file, starterSpec);
      await writeSchema();
      await writeGitignore(dirname(opts.file));
      io.out(`${opts.file}: written — edit it, then run \`kubewright render -f ${opts.file} --out rendered\``);
    });
}

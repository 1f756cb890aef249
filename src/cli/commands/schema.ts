// `kubewright schema`: the JSON Schema of cluster.yaml for editors and CI checks.
import type { Command } from 'commander';
import type { Io } from '../io.ts';

export function registerSchema(program: Command, io: Io): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft-07) of cluster.yaml, generated from the spec validator')
    .addHelpText(
      'after',
      `
Editors with yaml-language-server (VS Code's YAML extension, Neovim, …) complete and check the
spec when its first line names the schema, as \`kubewright init\` writes it:
  # yaml-language-server: $schema=./kubewright.schema.json
The schema checks field names, types and formats; cross-field rules (clusterDNS inside
serviceCIDR, …) are checked by \`kubewright validate\`.

Example:
  kubewright schema > kubewright.schema.json
`,
    )
    .action(async () => {
      const { clusterJsonSchema } = await import('../../spec/json-schema.ts');
      io.out(JSON.stringify(clusterJsonSchema(), null, 2));
    });
}

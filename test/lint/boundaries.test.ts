// The layer boundaries are enforced by lint: a planted import that crosses one must fail `eslint`
// with the repository's own config, and the same import in an allowed place must pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: repo });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const planted: [file: string, code: string, rule: string][] = [
  ['src/render/planted.ts', "import { LabProvider } from '../providers/lab/lab-provider.ts';\nexport const x = LabProvider;\n", 'no-restricted-imports'],
  ['src/render/modern/planted.ts', "import type { Executor } from '../../exec/executor.ts';\nexport type X = Executor;\n", 'no-restricted-imports'],
  ['src/spec/planted.ts', "import { renderCluster } from '../render/cluster.ts';\nexport const x = renderCluster;\n", 'no-restricted-imports'],
  ['src/spec/planted.ts', "import { applyPhases } from '../phases/manager.ts';\nexport const x = applyPhases;\n", 'no-restricted-imports'],
  ['src/providers/planted.ts', "import { renderCluster } from '../render/cluster.ts';\nexport const x = renderCluster;\n", 'no-restricted-imports'],
  ['src/providers/lab/planted.ts', "import { applyPhases } from '../../phases/manager.ts';\nexport const x = applyPhases;\n", 'no-restricted-imports'],
  ['src/phases/planted.ts', "import { buildProgram } from '../cli/main.ts';\nexport const x = buildProgram;\n", 'no-restricted-imports'],
  ['src/verify/planted.ts', "export function say(): void {\n  console.log('hi');\n}\n", 'no-console'],
  ['src/run/planted.ts', "export function say(): void {\n  process.stdout.write('hi');\n}\n", 'no-restricted-properties'],
  ['src/pki/planted.ts', "export function stop(): void {\n  process.exit(2);\n}\n", 'no-restricted-properties'],
];

for (const [file, code, rule] of planted) {
  test(`lint fails a planted ${rule} in ${file}`, async () => {
    assert.ok((await ruleIds(file, code)).includes(rule), `${file} should fail ${rule}`);
  });
}

test('the same imports pass where the layers allow them', async () => {
  assert.deepEqual(await ruleIds('src/run/planted.ts', "import { renderCluster } from '../render/cluster.ts';\nimport { LabProvider } from '../providers/lab/lab-provider.ts';\nexport const x = [renderCluster, LabProvider];\n"), []);
  assert.deepEqual(await ruleIds('src/render/planted.ts', "import type { Host } from '../spec/host.ts';\nexport type X = Host;\n"), []);
  assert.deepEqual(await ruleIds('src/cli/planted.ts', "export function say(): void {\n  console.log('hi');\n}\n"), []);
});

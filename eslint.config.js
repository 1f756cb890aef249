// Lint: recommended JS + typescript-eslint rules, plus the layer boundaries of docs/architecture.md:
// data flows one way (spec → resolve → render → gather → diff → apply → verify), so a lower layer
// never imports a higher one, and `src/cli` is the only place allowed to print or exit.
// test/lint/boundaries.test.ts plants bad imports and proves these rules fail them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A relative import that reaches into `src/<folder>/` (or `src/<folder>.ts`), from any depth. */
const into = (folder) => [`**/${folder}/**`, `**/${folder}.ts`];

/**
 * Which src folders each layer must not import. A layer absent from this table is checked by
 * the "nothing imports cli/" rule only.
 */
export const forbiddenImports = {
  // the bottom: the spec, the Host model, resolved credentials, version facts
  spec: ['render', 'pki', 'providers', 'exec', 'phases', 'run', 'cli', 'etcd', 'artifacts', 'addons', 'verify', 'local-disk'],
  // pure renderers: no I/O layer, nothing that runs
  render: ['providers', 'exec', 'phases', 'run', 'cli', 'pki', 'etcd', 'artifacts', 'addons', 'verify', 'local-disk'],
  // where hosts come from; they know nothing about Kubernetes files or phases
  providers: ['render', 'phases', 'run', 'cli', 'pki', 'etcd', 'addons', 'verify'],
  exec: ['spec', 'render', 'pki', 'providers', 'phases', 'run', 'cli', 'etcd', 'artifacts', 'addons', 'verify'],
  pki: ['render', 'providers', 'exec', 'phases', 'run', 'cli', 'etcd', 'addons', 'verify'],
  etcd: ['providers', 'exec', 'phases', 'run', 'cli', 'addons', 'verify'],
  artifacts: ['providers', 'exec', 'phases', 'run', 'cli', 'pki', 'etcd', 'addons', 'verify'],
  'local-disk': ['providers', 'exec', 'phases', 'run', 'cli', 'pki', 'etcd', 'artifacts', 'addons', 'verify'],
  // one phase per file + the manager: they see a host through an Executor, never a provider
  phases: ['providers', 'run', 'cli', 'pki', 'etcd', 'addons', 'verify'],
  verify: ['providers', 'exec', 'phases', 'run', 'cli', 'addons', 'artifacts'],
  addons: ['providers', 'exec', 'phases', 'run', 'cli', 'pki', 'etcd', 'artifacts'],
  // run/ wires the layers together for plan/apply/up; only cli/ sits above it
  run: ['cli'],
};

const boundaryConfigs = Object.entries(forbiddenImports).map(([layer, forbidden]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: forbidden.flatMap(into),
            message: `src/${layer}/ may not import ${forbidden.join(', ')} (layer boundaries: docs/architecture.md)`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'rendered/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // files directly in src/ (errors.ts) sit at the bottom with spec/
    files: ['src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['./*/**'], message: 'src/*.ts is the bottom layer: it imports no src folder' }] }] },
  },
  ...boundaryConfigs,
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'stdout', message: 'only src/cli prints: return data, let the command print it' },
        { object: 'process', property: 'stderr', message: 'only src/cli prints: return data, let the command print it' },
        { object: 'process', property: 'exit', message: 'only src/cli exits: throw a KubewrightError with its exit code' },
        { object: 'process', property: 'exitCode', message: 'only src/cli exits: throw a KubewrightError with its exit code' },
      ],
    },
  },
);

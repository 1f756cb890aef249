// The shipped form: `npm run build`'s tsc output in dist/, run through bin/ with plain node (no
// tsx), packed by npm with dist/ and without the TypeScript sources; start-up loads only what the
// invoked command needs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { testHooksIn } from '../support/test-hooks.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-build-'));
  // the build script's own tsc invocation, into a copy of the package (the checkout's dist/ is left alone)
  await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: repo, timeout: 300_000 });
  for (const f of ['package.json', 'bin', 'examples', 'README.md']) await cp(join(repo, f), join(dir, f), { recursive: true });
  // node resolves packages from the checkout's node_modules (a symlink keeps the copy small)
  await run('ln', ['-s', await realNodeModules(), join(dir, 'node_modules')]);
  // a resolve hook that records every module the process imports
  await writeFile(join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.KW_LOADED, r.url + '\\n'); return r; }\n`);
  await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hook.mjs', import.meta.url);\n`);
}, { timeout: 300_000 });

after(() => rm(dir, { recursive: true, force: true }));

async function realNodeModules(): Promise<string> {
  const { stdout } = await run('readlink', ['-f', join(repo, 'node_modules')]);
  return stdout.trim();
}

/** Runs the installed bin with plain node; returns stdout and the modules it imported. */
async function kubewright(...args: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const log = join(dir, `loaded-${args[0]}.txt`);
  await writeFile(log, '');
  const { stdout } = await run(process.execPath, ['--import', join(dir, 'register.mjs'), join(dir, 'bin/kubewright.mjs'), ...args], {
    cwd: dir, env: { ...process.env, KW_LOADED: log }, timeout: 60_000,
  });
  return { stdout, loaded: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
}

const heavy = ['@kubernetes/client-node', '@peculiar/x509', 'etcd3', 'ssh2', 'listr2'];

test('the bin runs the compiled dist/ with plain node and reports package.json\'s version', async () => {
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const { stdout, loaded } = await kubewright('--version');
  assert.equal(stdout.trim(), pkg.version);
  assert.ok(loaded.some((u) => u.endsWith('/dist/cli/main.js')), 'main.js came from dist/');
  assert.ok(!loaded.some((u) => u.endsWith('.ts')), 'no TypeScript source is loaded');
  assert.equal(pkg.dependencies['tsx'], undefined, 'tsx is a dev dependency only');
});

test('--version imports no command and no heavy library', async () => {
  const { loaded } = await kubewright('--version');
  assert.deepEqual(loaded.filter((u) => u.includes('/dist/cli/commands/')), []);
  for (const lib of [...heavy, 'zod', 'yaml']) assert.ok(!loaded.some((u) => u.includes(`/node_modules/${lib}/`)), `${lib} is not loaded`);
});

test('render of the starter spec loads none of the SSH, etcd, Kubernetes API, x509 or progress libraries', async () => {
  await kubewright('init', '-f', 'cluster.yaml');
  const { stdout, loaded } = await kubewright('render', '-f', 'cluster.yaml', '--out', 'rendered');
  assert.match(stdout, /rendered \d+ files/);
  for (const lib of heavy) assert.ok(!loaded.some((u) => u.includes(`/node_modules/${lib}/`)), `${lib} is not loaded by render`);
  assert.deepEqual(loaded.filter((u) => u.includes('/dist/cli/commands/')).map((u) => u.replace(/.*\//, '')), ['render.js']);
});

test('npm pack ships dist/ and bin/, not the TypeScript sources', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, timeout: 120_000 });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/cli/main.js'));
  assert.ok(files.includes('bin/kubewright.mjs'));
  assert.deepEqual(files.filter((f) => f.endsWith('.ts')), []);
  const built = await readdir(join(dir, 'dist/cli/commands'));
  assert.ok(built.includes('render.js'));
});

test('the compiled dist/ reads no KUBEWRIGHT_TEST… variable', async () => {
  assert.deepEqual(await testHooksIn(join(dir, 'dist')), []);
});

// `--help` of every command and subcommand through the real installed entry (package.json's
// `bin.kubewright`, run as a child process, as a user's shell runs it), not the in-process runCli.
// The command list comes from the commander program itself, so a new command is covered the day
// it is added. Which build of the bin runs: see before().
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';

const repo = join(import.meta.dirname, '../..');
interface PackageJson {
  bin: string | Record<string, string>;
  files: string[];
}
let installed = '';
let entry = '';

/** Newest modification time of any file under `dir` (0 when it does not exist). */
async function newest(dir: string, pick: (a: number, b: number) => number, start: number): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let t = start;
  for (const e of entries) if (e.isFile()) t = pick(t, (await stat(join(e.parentPath, e.name))).mtimeMs);
  return t;
}

// The checkout's own bin when its dist/ was built after the last source change (CI: `npm ci`
// builds it just before the tests); otherwise the package as npm ships it — package.json's
// `files`, with dist/ compiled by the build's tsc config — in a temporary copy, leaving a stale or
// missing dist/ in the checkout alone. One tsc run costs more than all the --help runs together.
before(async () => {
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as PackageJson;
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['kubewright'];
  assert.ok(bin, 'package.json names a kubewright bin');
  const oldestBuilt = await newest(join(repo, 'dist'), Math.min, Infinity);
  const newestSource = await newest(join(repo, 'src'), Math.max, 0);
  if (oldestBuilt !== Infinity && oldestBuilt >= newestSource) {
    entry = join(repo, bin);
    return;
  }
  installed = await mkdtemp(join(tmpdir(), 'kw-help-'));
  await promisify(execFile)(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')], { cwd: repo, timeout: 300_000 });
  for (const f of ['package.json', ...pkg.files.filter((f) => f !== 'dist')]) await cp(join(repo, f), join(installed, f), { recursive: true });
  await symlink(realpathSync(join(repo, 'node_modules')), join(installed, 'node_modules'));
  entry = join(installed, bin);
}, { timeout: 300_000 });

after(() => (installed ? rm(installed, { recursive: true, force: true }) : undefined));

/** Every command path of the program: [], ['init'], …, ['pki', 'issue'], … */
async function commandPaths(): Promise<string[][]> {
  const program = await buildProgram({ out: () => {}, err: () => {} });
  const walk = (c: Command, path: string[]): string[][] => [path, ...c.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
  return walk(program, []);
}

interface Result {
  code: number | string;
  stdout: string;
  stderr: string;
}

function runEntry(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    // the bin's own shebang decides the interpreter, as in a user's shell
    execFile(entry, args, { cwd: installed || repo, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Example lines: the indented lines under an `Example:`/`Examples:` heading that run this command. */
function examplesFor(help: string, path: string[]): string[] {
  const lines = help.split('\n');
  const out: string[] = [];
  let inExamples = false;
  for (const line of lines) {
    // the top-level help heads its examples "Start here:"
    if (/^(Examples?|Start here):$/.test(line)) inExamples = true;
    else if (inExamples && /^\S/.test(line)) inExamples = false;
    else if (inExamples && line.includes(['kubewright', ...path].join(' '))) out.push(line.trim());
  }
  return out;
}

const paths = await commandPaths();

test('the program has every documented top-level command (the enumeration is not empty)', () => {
  const top = paths.filter((p) => p.length === 1).map((p) => p[0]);
  for (const c of ['init', 'render', 'plan', 'up', 'apply', 'provision', 'verify', 'pki', 'etcd', 'artifacts', 'terraform', 'kubeconfig', 'lab', 'down']) {
    assert.ok(top.includes(c), `${c} is a command`);
  }
  assert.ok(paths.some((p) => p.length === 2), 'subcommands are enumerated too');
});

test('the example check can fail: help without an Example section has no example', () => {
  assert.deepEqual(examplesFor('Usage: kubewright x [options]\n\nOptions:\n  -h, --help  display help\n', ['x']), []);
  assert.deepEqual(examplesFor('Example:\n  kubewright other -f c.yaml\n', ['x']), [], 'an example of another command does not count');
});

// two children at a time: each loads the CLI from scratch (seconds on a busy 2-core machine)
const width = 2;
for (let lane = 0; lane < width; lane++) {
  const mine = paths.filter((_, i) => i % width === lane);
  test(`--help through package.json's bin exits 0 with a usage line and an example (commands ${lane + 1} of ${width})`, async () => {
    for (const path of mine) {
      const name = ['kubewright', ...path].join(' ');
      const r = await runEntry([...path, '--help']);
      assert.equal(r.code, 0, `${name} --help: exit ${r.code}\n${r.stderr}`);
      assert.equal(r.stderr, '', `${name} --help wrote to stderr`);
      assert.match(r.stdout, new RegExp(`^Usage: ${name} `), `${name} --help: no usage line`);
      assert.ok(examplesFor(r.stdout, path).length > 0, `${name} --help: no example line that runs \`${name}\`\n${r.stdout}`);
    }
  });
}

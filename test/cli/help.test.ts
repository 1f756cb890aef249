// `--help` of every command and subcommand through the real installed entry (package.json's
// `bin.kubewright`, run as a child process, as a user's shell runs it), not the in-process runCli.
// The command list comes from the commander program itself, so a new command is covered the day
// it is added. The bin runs from a copy of the package as npm ships it (see before()).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
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

// The package as npm ships it: package.json's `files`, with dist/ compiled by the build's own tsc
// config into a temporary copy (the checkout's dist/ may be stale or absent and is left alone).
before(async () => {
  installed = await mkdtemp(join(tmpdir(), 'kw-help-'));
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as PackageJson;
  await promisify(execFile)(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')], { cwd: repo, timeout: 300_000 });
  for (const f of ['package.json', ...pkg.files.filter((f) => f !== 'dist')]) await cp(join(repo, f), join(installed, f), { recursive: true });
  await symlink(realpathSync(join(repo, 'node_modules')), join(installed, 'node_modules'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['kubewright'];
  assert.ok(bin, 'package.json names a kubewright bin');
  entry = join(installed, bin);
}, { timeout: 300_000 });

after(() => rm(installed, { recursive: true, force: true }));

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
    execFile(entry, args, { cwd: installed, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
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

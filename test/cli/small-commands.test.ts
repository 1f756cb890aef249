// The small commands of issue 13: validate, schema (judged by Ajv, an independent JSON Schema
// implementation), init's editor line, version -o json, completion (run in a real bash), -f -.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runCli } from '../helpers/run-cli.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
const examples = join(repo, 'examples');

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-small-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('validate exits 0 on a valid spec and 2 naming the field on an invalid one', () =>
  withTmp(async (dir) => {
    const ok = await runCli('validate', '-f', join(examples, 'seed.yaml'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /seed\.yaml: valid \(cluster \S+, seed profile/);
    const json = await runCli('validate', '-f', join(examples, 'seed.yaml'), '-o', 'json');
    assert.equal((JSON.parse(json.stdout) as { valid: boolean }).valid, true);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(join(examples, 'seed.yaml'), 'utf8')).replace(/clusterDNS: \S+/, 'clusterDNS: 10.99.0.10'));
    const r = await runCli('validate', '-f', bad);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /kubernetes\.clusterDNS: must be inside serviceCIDR/);
    assert.equal(r.stdout, '');
  }));

/** Ajv 8, the validator @stoplight/prism-cli already installs (through ajv-formats): an independent judge. */
function ajv(): { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } } {
  const req = createRequire(createRequire(join(repo, 'package.json')).resolve('ajv-formats'));
  const Ajv = req('ajv') as { default: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } } };
  const formats = createRequire(join(repo, 'package.json'))('ajv-formats') as { default: (a: unknown) => void };
  const a = new Ajv.default({ strict: false, allErrors: true });
  formats.default(a);
  return a;
}

test('schema prints a draft-07 JSON Schema that accepts every example and the starter and rejects unknown or mistyped fields', async () => {
  const r = await runCli('schema');
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { $schema: string };
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  const validate = ajv().compile(schema);
  const specs = (await readdir(examples)).filter((f) => f.endsWith('.yaml'));
  assert.ok(specs.length >= 2);
  for (const f of specs) assert.ok(validate(parse(await readFile(join(examples, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`);
  const { starterSpec } = await import('../../src/spec/starter.ts');
  const starter = parse(starterSpec) as Record<string, Record<string, unknown>>;
  assert.ok(validate(starter), JSON.stringify(validate.errors));
  assert.equal(validate({ ...starter, kubernetes: { ...starter['kubernetes'], clusterDNSS: '10.32.0.10' } }), false, 'unknown field');
  assert.equal(validate({ ...starter, profile: 'vintage' }), false, 'not an enum value');
  assert.equal(validate({ ...starter, kind: 'Pod' }), false);
});

test('init writes the yaml-language-server line and the schema it names beside the spec', () =>
  withTmp(async (dir) => {
    const spec = join(dir, 'cluster.yaml');
    assert.equal((await runCli('init', '-f', spec)).code, 0);
    const first = (await readFile(spec, 'utf8')).split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    assert.ok(m, first);
    const written = await readFile(join(dir, m[1]!), 'utf8');
    assert.deepEqual(JSON.parse(written), JSON.parse((await runCli('schema')).stdout));
    assert.equal((await runCli('validate', '-f', spec)).code, 0);
  }));

test('version -o json reports package.json\'s version', async () => {
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli('version', '-o', 'json');
  assert.equal(r.code, 0);
  const v = JSON.parse(r.stdout) as { kubewright: string; node: string };
  assert.equal(v.kubewright, pkg.version);
  assert.equal(v.node, process.version);
  assert.equal((await runCli('--version')).stdout, pkg.version);
  assert.match((await runCli('version')).stdout, new RegExp(`^kubewright ${pkg.version.replace(/\./g, '\\.')} `));
});

test('bash completion, sourced in a real bash, completes commands, subcommands, flags and -o choices', async () => {
  const script = (await runCli('completion', 'bash')).stdout;
  const complete = async (...words: string[]): Promise<string[]> => {
    const { stdout } = await run('bash', ['-c', `source /dev/stdin <<'KW'\n${script}\nKW\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kubewright; printf '%s\\n' "\${COMPREPLY[@]}"`]);
    return stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(await complete('kubewright', 'ren'), ['render']);
  assert.deepEqual((await complete('kubewright', 'pki', '')).filter((w) => !w.startsWith('-')).sort(), ['init', 'issue', 'plan', 'rotate-ca']);
  assert.deepEqual(await complete('kubewright', 'plan', '-o', ''), ['text', 'json']);
  assert.ok((await complete('kubewright', 'apply', '--wa')).includes('--wait-timeout'));
  assert.ok((await complete('kubewright', 'lab', 'down', '--')).includes('--yes'));
  assert.deepEqual(await complete('kubewright', 'completion', 'fi'), []);
});

test('zsh and fish completion name every command', async () => {
  const zsh = (await runCli('completion', 'zsh')).stdout;
  assert.match(zsh, /^#compdef kubewright/);
  assert.match(zsh, /bashcompinit/);
  const fish = (await runCli('completion', 'fish')).stdout;
  for (const c of ['init', 'render', 'plan', 'apply', 'up', 'verify', 'validate', 'schema']) assert.match(fish, new RegExp(`-n '__fish_use_subcommand' -a '${c}'`));
  assert.match(fish, /__fish_seen_subcommand_from pki; and __fish_seen_subcommand_from issue' .*-l threshold/);
  assert.equal((await runCli('completion', 'powershell')).code, 2);
});

test('-f - reads the spec from standard input', async () => {
  const spec = await readFile(join(examples, 'seed.yaml'), 'utf8');
  const child = execFile(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'validate', '-f', '-'], { cwd: repo });
  child.stdin!.end(spec);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0);
  assert.match(stdout, /^-: valid/);
  const bad = execFile(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'validate', '-f', '-'], { cwd: repo });
  bad.stdin!.end(spec.replace(/clusterDNS: \S+/, 'clusterDNS: nope'));
  let stderr = '';
  bad.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  assert.equal(await new Promise<number | null>((res) => bad.on('close', res)), 2);
  assert.match(stderr, /<stdin>: .*kubernetes\.clusterDNS/s);
});

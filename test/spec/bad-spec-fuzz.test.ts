// Fuzz (fast-check): 1,200 generated bad specs, each a valid spec with one hostile value put in
// (a path that climbs out, an address that is not one, a newline or systemd specifier, a bad or
// exploding YAML alias, an oversized file). Every one must end with exit 2, the field path of the
// hostile value in the message, no stack trace, and nothing written next to the spec. Most run
// through the CLI in-process (fast); a few through the CLI's entry module as child processes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseDocument, Scalar } from 'yaml';
import { maxSpecBytes } from '../../src/spec/cluster.ts';
import { starterSpec } from '../../src/spec/starter.ts';
import { exampleText } from '../support/example-clusters.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';

type Base = 'starter' | 'seed' | 'digitalocean';
const baseText: Record<Base, string> = { starter: starterSpec, seed: exampleText('seed'), digitalocean: exampleText('digitalocean') };
const staticHosts = 3;

interface BadSpec {
  base: Base;
  /** the field path the refusal must name */
  path: string;
  text: string;
}

const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const junk = fc.string({ maxLength: 12 });
/** a string that contains `needle` somewhere among random characters */
const containing = (needle: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.tuple(junk, needle, junk).map(([a, n, b]) => `${a}${n}${b}`);
const climb = pick('../', '/..', '../../etc', '/', 'a/b');
const systemdSpecial = pick('$', '%', '${X}', '%h', '$(id)', '\n', ' ', '\t');

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
/** strings that are no IPv4 address: out-of-range octets, too few parts, IPv6, names, an address with a unit line after it */
const notIpv4 = fc.oneof(
  fc.tuple(ipv4, fc.integer({ min: 256, max: 99999 })).map(([ip, n]) => ip.replace(/\d+$/, String(n))),
  fc.tuple(octet, octet, octet).map((o) => o.join('.')),
  fc.ipV6(),
  fc.domain(),
  fc.tuple(ipv4, pick('\nExecStartPre=/bin/sh -c id', ' ', '/24', ':22', '\n')).map(([ip, tail]) => `${ip}${tail}`),
);
/** not an address SSH may connect to: like notIpv4, but a DNS name is allowed there */
const notSshAddress = fc.oneof(
  fc.tuple(ipv4, fc.integer({ min: 256, max: 99999 })).map(([ip, n]) => ip.replace(/\d+$/, String(n))),
  fc.ipV6(),
  containing(fc.oneof(climb, systemdSpecial)).filter((s) => /[/$%\s]/.test(s)),
);

/** The base spec with one value set, double-quoted so that any string survives the YAML round trip. */
function withValue(base: Base, path: (string | number)[], value: string): string {
  const doc = parseDocument(baseText[base]);
  const node = new Scalar(value);
  node.type = Scalar.QUOTE_DOUBLE;
  doc.setIn(path, node);
  return doc.toString();
}

const staticBad = (field: 'name' | 'address' | 'privateAddress' | 'user', values: fc.Arbitrary<string>): fc.Arbitrary<BadSpec> =>
  fc.tuple(fc.integer({ min: 0, max: staticHosts - 1 }), values).map(([i, v]) => ({
    base: 'starter' as const,
    path: `provider.static.hosts.${i}.${field}`,
    text: withValue('starter', ['provider', 'static', 'hosts', i, field], v),
  }));

const onAnyBase = (path: (string | number)[], values: fc.Arbitrary<string>): fc.Arbitrary<BadSpec> =>
  fc.tuple(pick<Base>('starter', 'seed', 'digitalocean'), values).map(([base, v]) => ({ base, path: path.join('.'), text: withValue(base, path, v) }));

/** One scalar field replaced by an alias nobody anchored. */
const unresolvedAlias: fc.Arbitrary<BadSpec> = fc.tuple(
  pick<Base>('starter', 'seed', 'digitalocean'),
  pick(['kubernetes', 'clusterDomain'], ['kubernetes', 'serviceCIDR'], ['etcd', 'prefix'], ['pki', 'dir'], ['ssh', 'user'], ['flannel', 'backend']),
  fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
).map(([base, path, name]) => ({ base, path: path.join('.'), text: withValue(base, path, 'ALIAS_HERE').replace(/"ALIAS_HERE"/, `*${name}`) }));

/** A "billion laughs" of 3..9 levels of 2..9 aliases under a made-up top-level key. */
const aliasBomb: fc.Arbitrary<BadSpec> = fc.tuple(pick<Base>('starter', 'seed', 'digitalocean'), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.stringMatching(/^x[a-z]{1,6}$/)).map(
  ([base, levels, width, key]) => {
    const lines = [`${key}:`, `  l0: &l0 [${Array(width).fill('"lol"').join(',')}]`];
    for (let i = 1; i < levels; i++) lines.push(`  l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(',')}]`);
    return { base, path: `${key}.l2.0`, text: `${baseText[base].trimEnd()}\n${lines.join('\n')}\n` };
  },
);

const badSpec: fc.Arbitrary<BadSpec> = fc.oneof(
  staticBad('name', containing(fc.oneof(climb, systemdSpecial))),
  staticBad('address', notSshAddress),
  staticBad('privateAddress', notIpv4),
  staticBad('user', containing(fc.oneof(climb, systemdSpecial))),
  fc.tuple(pick<Base>('seed', 'digitalocean'), containing(climb)).map(([base, p]) => ({
    base, path: 'provider.digitalocean.namePattern', text: withValue(base, ['provider', 'digitalocean', 'namePattern'], `${p}{index}`),
  })),
  onAnyBase(['etcd', 'prefix'], containing(systemdSpecial).map((s) => `/flannel/${s}`)),
  onAnyBase(['versions', 'docker'], containing(climb)),
  onAnyBase(['versions', 'flannelCniPlugin'], containing(climb)),
  onAnyBase(['ssh', 'user'], containing(systemdSpecial)),
  unresolvedAlias,
  aliasBomb,
);

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kw-fuzz-'));
});
after(() => rm(root, { recursive: true, force: true }));

let n = 0;
async function inFreshDir(text: string, run: (spec: string, out: string) => Promise<CliResult>): Promise<{ r: CliResult; left: string[] }> {
  const dir = join(root, String(n++));
  await mkdir(dir);
  const spec = join(dir, 'cluster.yaml');
  await writeFile(spec, text);
  const r = await run(spec, join(dir, 'out'));
  const left = await readdir(dir);
  await rm(dir, { recursive: true, force: true });
  return { r, left };
}

function assertRefusal(c: BadSpec, r: CliResult, left: string[]): void {
  const context = `--- ${c.base} with a bad ${c.path} ---\n${c.text.slice(0, 3000)}\n--- stderr ---\n${r.stderr}`;
  assert.equal(r.code, 2, context);
  assert.ok(r.stderr.includes(`${c.path}: `), `the message names ${c.path}\n${context}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |unexpected failure/, context);
  assert.deepEqual(left, ['cluster.yaml'], `nothing written\n${context}`);
}

test('1,200 generated bad specs: exit 2, the field path, no stack trace, nothing written (in-process CLI)', async () => {
  let runs = 0;
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(badSpec, async (c) => {
      runs += 1;
      seen.add(c.path.replace(/\.\d+\./, '.N.').replace(/^x[a-z]+\./, 'x-bomb.'));
      const { r, left } = await inFreshDir(c.text, (spec, out) => runCli('render', '-f', spec, '--out', out));
      assertRefusal(c, r, left);
    }),
    { numRuns: 1200, seed: Number(process.env['FC_SEED'] ?? 20261130) },
  );
  assert.ok(runs >= 1000, `ran ${runs}`);
  // every kind of hostile value was generated
  assert.ok(seen.size >= 11, [...seen].join(', '));
});

test('an oversized spec is refused with the (file) path, in-process', async () => {
  const { r, left } = await inFreshDir(`${starterSpec}#${'x'.repeat(maxSpecBytes)}\n`, (spec, out) => runCli('render', '-f', spec, '--out', out));
  assertRefusal({ base: 'starter', path: '(file)', text: '(oversized)' }, r, left);
});

// the CLI's entry module in a process of its own (bin/ runs the compiled dist/ of the same module)
const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
function runBin(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', entry, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('a few generated bad specs through the CLI as child processes: exit 2, the field path, no stack trace', async () => {
  // each child process pays tsx's start-up (seconds on a loaded machine): a handful is enough
  const samples = fc.sample(badSpec, { numRuns: 2, seed: 42 });
  samples.push(fc.sample(aliasBomb, { numRuns: 1, seed: 1 })[0] as BadSpec, fc.sample(unresolvedAlias, { numRuns: 1, seed: 2 })[0] as BadSpec);
  for (const c of samples) {
    const { r, left } = await inFreshDir(c.text, (spec, out) => runBin('render', '-f', spec, '--out', out));
    assertRefusal(c, r, left);
  }
});

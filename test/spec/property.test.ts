// Property: any mutation of a valid spec (fields dropped, replaced by random values, retyped)
// either validates, or is refused with a SpecError (exit 2) whose every issue names a field path.
// Nothing else is ever thrown: no TypeError, no zod error, no stack trace for the user. A spec
// that validates also renders, or is refused with a kubewright error (never a crash).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { isKubewrightError, SpecError } from '../../src/errors.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { starterSpec } from '../../src/spec/starter.ts';
import { exampleText } from '../support/example-clusters.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const bases: { name: string; doc: Json }[] = [
  { name: 'seed.yaml', doc: parse(exampleText('seed')) as Json },
  { name: 'digitalocean.yaml', doc: parse(exampleText('digitalocean')) as Json },
  { name: 'starter', doc: parse(starterSpec) as Json },
];

/** Every path inside the document except the root itself. */
function paths(doc: Json, prefix: Path = []): Path[] {
  if (doc === null || typeof doc !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  return keys.flatMap((k) => {
    const child = (doc as Record<string | number, Json>)[k] as Json;
    return [[...prefix, k], ...paths(child, [...prefix, k])];
  });
}

type Mutation =
  | { kind: 'drop'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'retype'; at: number }
  | { kind: 'add'; at: number; key: string; value: Json };

function retype(v: Json): Json {
  if (typeof v === 'string') return /^\d+(\.\d+)?$/.test(v) ? Number(v) : v.length;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (v === null) return {};
  if (Array.isArray(v)) return v.length > 0 ? (v[0] as Json) : {};
  return Object.values(v);
}

function apply(doc: Json, m: Mutation): Json {
  const all = paths(doc);
  if (all.length === 0) return doc;
  const path = all[m.at % all.length] as Path;
  const copy = structuredClone(doc);
  let parent = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = path.at(-1) as string | number;
  if (m.kind === 'drop') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.kind === 'replace') parent[last] = m.value;
  else if (m.kind === 'retype') parent[last] = retype(parent[last] as Json);
  else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, Json>)[m.key] = m.value;
    else parent[last] = { [m.key]: m.value };
  }
  return copy;
}

// values that exercise the spec's checks: version-, CIDR-, URL- and IP-shaped strings besides random JSON
const interesting = fc.oneof(
  fc.constantFrom('1.8', '1.23', '1.24', '1.36', 'v1.30.2', '0.9.0', '1.8.0-rc.1', '10.32.0.0/24', '10.32.0.10', '10.200.0.0/16',
    '0.0.0.0/0', '10.32.0.0/33', 'https://api.example.com:6443', 'http://x', '', ' ', 'docker', 'containerd', 'kube-dns',
    'coredns', 'seed', 'modern', 'nftables', '/flannel.com/network', '/', '999999999999', '-1', '{index}'),
  fc.integer({ min: -5, max: 100000 }),
  fc.double(),
);
const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: interesting as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: fc.constantFrom('extra', 'version', 'count', 'endpoints', 'hosts'), value }),
);

test('mutated specs validate or are refused with exit 2 and a field path for every issue', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.constantFrom(...bases), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, mutations) => {
      const doc = mutations.reduce(apply, base.doc);
      const text = stringify(doc);
      let cluster;
      try {
        cluster = parseCluster(text, base.name);
      } catch (e) {
        if (!(e instanceof SpecError)) throw new Error(`not a SpecError: ${e instanceof Error ? e.stack : String(e)}\n--- spec ---\n${text}`);
        assert.equal(e.exitCode, 2);
        assert.ok(e.issues.length > 0, `SpecError without issues for\n${text}`);
        for (const i of e.issues) {
          assert.ok(i.path.length > 0, `issue without a field path: ${JSON.stringify(i)}\n--- spec ---\n${text}`);
          assert.ok(i.message.length > 0);
        }
        assert.doesNotMatch(e.describe(), /\n\s+at /, 'no stack trace in the message');
        refused += 1;
        return;
      }
      accepted += 1;
      try {
        renderCluster({ cluster, hosts: plannedHosts(cluster) });
      } catch (e) {
        if (!isKubewrightError(e)) throw new Error(`render crashed on a valid spec: ${e instanceof Error ? e.stack : String(e)}\n--- spec ---\n${text}`);
      }
    }),
    { numRuns: 300, seed: Number(process.env['FC_SEED'] ?? 20261126) },
  );
  // the property means something only if both outcomes occur
  assert.ok(accepted > 0 && refused > 0, `accepted ${accepted}, refused ${refused}`);
});

test('a YAML syntax error is refused with exit 2 and a line:column path', () => {
  fc.assert(
    fc.property(fc.constantFrom(...bases), fc.nat(), (base, at) => {
      const text = stringify(base.doc);
      // an unbalanced flow sequence at some line start is always a syntax error
      const lines = text.split('\n');
      const i = at % lines.length;
      lines.splice(i, 0, 'broken: [unterminated');
      try {
        parseCluster(lines.join('\n'), base.name);
      } catch (e) {
        assert.ok(e instanceof SpecError, String(e));
        assert.equal(e.exitCode, 2);
        for (const issue of e.issues) assert.ok(issue.path.length > 0, JSON.stringify(issue));
        return;
      }
      assert.fail('a broken spec was accepted');
    }),
    { numRuns: 50, seed: 7 },
  );
});

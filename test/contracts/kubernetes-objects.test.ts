// Every Kubernetes object kubewright renders and applies (the DNS addon: ServiceAccount, RBAC,
// ConfigMap, Deployment, Service) checked against the upstream OpenAPI schema of its release,
// strictly (an unknown field fails), for every minor of both profiles; planted mistakes fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { manifestObjects } from '../../src/addons/apply-dns-addon.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { allMinors } from '../../src/spec/matrix.ts';
import { exampleInput } from '../support/example-clusters.ts';
import { SCHEMA_MINORS, validateKubernetesObject } from './kubernetes/validate-object.ts';

type Obj = Record<string, unknown>;

function objectsAt(profile: 'seed' | 'digitalocean', minor: number): Obj[] {
  return manifestObjects(renderCluster(exampleInput(profile, `1.${minor}.0`)).cluster) as unknown as Obj[];
}

/** The rendered object of `kind` at 1.<minor>, deep-copied so a test may plant a mistake in it. */
function objectOf(profile: 'seed' | 'digitalocean', minor: number, kind: string): Obj {
  const o = objectsAt(profile, minor).find((x) => x['kind'] === kind);
  assert.ok(o, `${profile} 1.${minor} renders a ${kind}`);
  return structuredClone(o);
}

/** Walks `path` (keys and array indexes) in `o` and returns the object there. */
function at(o: unknown, ...path: (string | number)[]): Obj {
  let cur = o;
  for (const p of path) cur = (cur as Record<string | number, unknown>)[p];
  assert.ok(cur && typeof cur === 'object', `path ${path.join('.')}`);
  return cur as Obj;
}

// the seed profile runs docker, which the spec refuses from 1.24; the modern profile starts at 1.10
const seedMinors = allMinors().map((m) => m.minor).filter((m) => m < 24);
const modernMinors = allMinors().map((m) => m.minor).filter((m) => m >= 10);

for (const [profile, minors] of [['seed', seedMinors], ['digitalocean', modernMinors]] as const) {
  test(`every object the ${profile} profile applies fits its release's OpenAPI schema, 1.${minors[0]} … 1.${minors.at(-1)}`, () => {
    const problems: string[] = [];
    let checked = 0;
    for (const minor of minors) {
      for (const o of objectsAt(profile, minor)) {
        checked += 1;
        for (const p of validateKubernetesObject(o, minor)) problems.push(`1.${minor} ${String(o['kind'])} ${String((o['metadata'] as Obj | undefined)?.['name'])}: ${p}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked >= minors.length * 4, `checked ${checked} objects`);
  });
}

test('the judge is strict: a misspelled, a misplaced and an unknown field each fail, naming the path', () => {
  const d = objectOf('digitalocean', 36, 'Deployment');
  const container = at(d, 'spec', 'template', 'spec', 'containers', 0);
  container['imagePulPolicy'] = container['imagePullPolicy'];
  delete container['imagePullPolicy'];
  assert.deepEqual(validateKubernetesObject(d, 36), ['.spec.template.spec.containers[0]: unknown field "imagePulPolicy"']);

  const misplaced = objectOf('digitalocean', 36, 'Deployment');
  at(misplaced, 'spec', 'template', 'spec')['replicas'] = 2;
  assert.deepEqual(validateKubernetesObject(misplaced, 36), ['.spec.template.spec: unknown field "replicas"']);

  const top = objectOf('seed', 8, 'Service');
  top['specs'] = {};
  assert.deepEqual(validateKubernetesObject(top, 8), ['(root): unknown field "specs"']);
});

test('the judge checks types and required fields', () => {
  const d = objectOf('digitalocean', 23, 'Deployment');
  at(d, 'spec')['replicas'] = '2';
  assert.deepEqual(validateKubernetesObject(d, 23), ['.spec.replicas: should be integer']);

  const svc = objectOf('digitalocean', 36, 'Service');
  delete at(svc, 'spec', 'ports', 0)['port'];
  assert.deepEqual(validateKubernetesObject(svc, 36), ['.spec.ports[0]: missing required field "port"']);

  const role = objectOf('digitalocean', 36, 'ClusterRole');
  const rule = at(role, 'rules', 0);
  rule['verb'] = rule['verbs'];
  delete rule['verbs'];
  const problems = validateKubernetesObject(role, 36);
  assert.ok(problems.includes('.rules[0]: unknown field "verb"'), problems.join('\n'));
  assert.ok(problems.includes('.rules[0]: missing required field "verbs"'), problems.join('\n'));
  // IntOrString takes either: the seed's maxSurge 10% (string) and maxUnavailable 0 (integer)
  assert.deepEqual(validateKubernetesObject(objectOf('seed', 8, 'Deployment'), 8), []);
});

test('an API version the release no longer (or not yet) serves fails', () => {
  const d = objectOf('seed', 23, 'Deployment');
  assert.equal(d['apiVersion'], 'apps/v1');
  d['apiVersion'] = 'extensions/v1beta1';
  assert.deepEqual(validateKubernetesObject(d, 23), ['extensions/v1beta1 Deployment is not served by Kubernetes 1.23 (judging 1.23)']);
  const early = objectOf('seed', 8, 'Deployment');
  early['apiVersion'] = 'apps/v1';
  assert.deepEqual(validateKubernetesObject(early, 8), ['apps/v1 Deployment is not served by Kubernetes 1.8 (judging 1.8)']);
});

test('a field newer than the release fails against the older schema', () => {
  // Service.spec.internalTrafficPolicy arrived in 1.21 (alpha), so 1.13 rejects it and 1.23 accepts it
  const svc = objectOf('digitalocean', 23, 'Service');
  at(svc, 'spec')['internalTrafficPolicy'] = 'Cluster';
  assert.deepEqual(validateKubernetesObject(svc, 23), []);
  assert.deepEqual(validateKubernetesObject(svc, 13), ['.spec: unknown field "internalTrafficPolicy"']);
});

test('the vendored schemas are the releases they claim to be', async () => {
  const { readFileSync } = await import('node:fs');
  for (const minor of SCHEMA_MINORS) {
    const doc = JSON.parse(readFileSync(new URL(`./kubernetes/openapi-1.${minor}.json`, import.meta.url), 'utf8')) as { upstreamVersion: string; served: string[] };
    // the v2 swagger documents carry their release in info.version; the v3 files say "unversioned"
    if (doc.upstreamVersion !== 'unversioned') assert.match(doc.upstreamVersion, new RegExp(`^v1\\.${minor}\\.\\d+$`));
    assert.ok(doc.served.includes('v1/Service'));
  }
});

/** client-node's own request serializer (not exported by the package): what applyDnsAddon actually sends. */
async function clientNodeSerializer(): Promise<(o: Obj) => unknown> {
  const index = import.meta.resolve('@kubernetes/client-node');
  const { ObjectSerializer } = (await import(new URL('./serializer.js', index).href)) as { ObjectSerializer: { serialize(o: unknown, type: string): unknown } };
  const { getSerializationType } = (await import(new URL('./util.js', index).href)) as { getSerializationType(apiVersion?: string, kind?: string): string };
  return (o) => JSON.parse(JSON.stringify(ObjectSerializer.serialize(o, getSerializationType(String(o['apiVersion']), String(o['kind']))))) as unknown;
}

test('every applied object reaches the API whole: client-node\'s typed serializer drops no field kubewright renders', async () => {
  // the serializer silently drops fields its models lack (a misspelled one, or one newer than the
  // library); this catches a rendered field that `kubewright up` would lose on the way to the server
  const serialize = await clientNodeSerializer();
  const lost: string[] = [];
  for (const [profile, minors] of [['seed', seedMinors], ['digitalocean', modernMinors]] as const) {
    for (const minor of [minors[0] ?? 0, minors.at(-1) ?? 0]) {
      for (const o of objectsAt(profile, minor)) {
        // key order may differ (the serializer follows its models); content must not
        if (!isDeepStrictEqual(serialize(o), JSON.parse(JSON.stringify(o)))) lost.push(`${profile} 1.${minor} ${String(o['kind'])}`);
      }
    }
  }
  assert.deepEqual(lost, []);
  // planted: the serializer really does drop an unknown field (so the check above can fail)
  const d = objectOf('digitalocean', 36, 'Deployment');
  at(d, 'spec')['replicaz'] = 2;
  assert.equal((serialize(d) as { spec: Obj }).spec['replicaz'], undefined);
});

// The control plane's rendered config files judged by schemas generated from the upstream Go types
// of each minor (component-config/generate-control-plane-schemas.ts): KubeSchedulerConfiguration
// (1.12 …), EncryptionConfiguration (1.13 …) and AuthenticationConfiguration (1.32 …), strictly (an
// unknown field fails, as the components' decoders do). Older minors use formats the staging
// repositories do not hold (componentconfig/v1alpha1, EncryptionConfig v1): those are not judged here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { controlPlanePaths } from '../../src/render/control-plane/paths.ts';
import { renderControlPlane } from '../../src/render/control-plane/render-control-plane.ts';
import { allMinors } from '../../src/spec/matrix.ts';
import { controlPlaneInput } from '../support/control-plane-input.ts';
import { componentSchemas, validateComponentConfig, type ConfigComponent } from './component-config/validate-config.ts';

const p = controlPlanePaths.modern;
const FILES: [ConfigComponent, string][] = [['kube-scheduler', p.schedulerConfig], ['encryption-config', p.encryptionConfig], ['authentication-config', p.authenticationConfig]];

function rendered(path: string, minor: number): Record<string, unknown> | undefined {
  const host = renderControlPlane(controlPlaneInput('digitalocean', `1.${minor}.0`)).hosts.get('master-1');
  const f = host?.files.find((x) => x.path === path);
  return f === undefined ? undefined : (parse(f.contents) as Record<string, unknown>);
}

const generated = (c: ConfigComponent): number[] => Object.keys(componentSchemas(c).minors).map((m) => Number(m.split('.')[1]));

for (const [component, path] of FILES) {
  test(`the rendered ${component} fits the upstream Go types of every minor that has it`, () => {
    const minors = generated(component);
    const problems: string[] = [];
    for (const minor of minors) {
      const config = rendered(path, minor);
      if (config === undefined) {
        problems.push(`1.${minor}: ${path} not rendered`);
        continue;
      }
      for (const problem of validateComponentConfig(component, config, minor)) problems.push(`1.${minor}: ${problem}`);
    }
    assert.deepEqual(problems, []);
    assert.ok(minors.includes(36), `${component} is generated up to 1.36`);
  });
}

test('the files exist exactly where the version has them: the scheduler config from 1.10, AuthenticationConfiguration from 1.32', () => {
  const have = (path: string): number[] => allMinors().map((m) => m.minor).filter((m) => m >= 10 && rendered(path, m) !== undefined);
  assert.equal(have(p.schedulerConfig)[0], 10);
  assert.equal(have(p.authenticationConfig)[0], 32);
  assert.equal(have(p.encryptionConfig)[0], 10);
});

test('every generated minor records its apiVersion, tag and the commit of each source file', () => {
  for (const [component] of FILES) {
    for (const [minor, m] of Object.entries(componentSchemas(component).minors)) {
      assert.equal(m.tag, `kubernetes-${minor}.0`);
      assert.match(m.apiVersion ?? '', /^(kubescheduler|apiserver)\.config\.k8s\.io\/v1(alpha1|beta[123])?$/);
      for (const commit of Object.values(m.commits)) assert.match(commit, /^[0-9a-f]{40}$/);
    }
  }
});

test('planted: a misspelled scheduler field, a scheduler apiVersion from another release, an unknown provider and a v1-only field in v1beta1 fail', () => {
  const sched = rendered(p.schedulerConfig, 36) ?? {};
  assert.deepEqual(validateComponentConfig('kube-scheduler', { ...sched, leaderElect: true }, 36), ['(root): unknown field "leaderElect"']);
  assert.deepEqual(validateComponentConfig('kube-scheduler', rendered(p.schedulerConfig, 22) ?? {}, 23), ['apiVersion: must be kubescheduler.config.k8s.io/v1beta3 (got kubescheduler.config.k8s.io/v1beta2)']);
  const enc = structuredClone(rendered(p.encryptionConfig, 30) ?? {}) as { resources: { providers: Record<string, unknown>[] }[] };
  enc.resources[0]?.providers.unshift({ aesgcmx: {} });
  assert.match(validateComponentConfig('encryption-config', enc, 30).join('\n'), /unknown field "aesgcmx"/);
  const auth = structuredClone(rendered(p.authenticationConfig, 32) ?? {}) as { anonymous: Record<string, unknown> };
  auth.anonymous['paths'] = ['/readyz'];
  assert.match(validateComponentConfig('authentication-config', auth, 32).join('\n'), /\.anonymous: unknown field "paths"/);
});

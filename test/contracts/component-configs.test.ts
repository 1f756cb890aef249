// The rendered KubeletConfiguration and KubeProxyConfiguration of every minor the modern profile
// supports, judged by schemas generated from the upstream Go types of that minor (strict: an
// unknown field fails, as kubelet's decoder does); planted mistakes fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCluster } from '../../src/render/cluster.ts';
import { allMinors } from '../../src/spec/matrix.ts';
import { exampleInput } from '../support/example-clusters.ts';
import { componentSchemas, judgedMinor, validateComponentConfig } from './component-config/validate-config.ts';

const CONFIG_PATH: Record<'kubelet' | 'kube-proxy', string> = { kubelet: '/var/lib/kubelet/config.yaml', 'kube-proxy': '/var/lib/kube-proxy/config.yaml' };

function renderedConfig(component: 'kubelet' | 'kube-proxy', minor: number): Record<string, unknown> {
  const host = renderCluster(exampleInput('digitalocean', `1.${minor}.0`)).hosts.values().next().value;
  const file = host?.files.find((f) => f.path === CONFIG_PATH[component]);
  assert.ok(file, `1.${minor} renders ${CONFIG_PATH[component]}`);
  return parse(file.contents) as Record<string, unknown>;
}

// the modern profile writes config files from 1.10 (its oldest minor)
const modernMinors = allMinors().map((m) => m.minor).filter((m) => m >= 10);

for (const component of ['kubelet', 'kube-proxy'] as const) {
  test(`the rendered ${component} config fits the upstream Go types of every minor 1.${modernMinors[0]} … 1.${modernMinors.at(-1)}`, () => {
    const problems: string[] = [];
    for (const minor of modernMinors) {
      for (const p of validateComponentConfig(component, renderedConfig(component, minor), minor)) problems.push(`1.${minor} (judged by 1.${judgedMinor(component, minor)}): ${p}`);
    }
    assert.deepEqual(problems, []);
  });
}

test('the generated schemas record the upstream tag and commit of every source file', () => {
  for (const component of ['kubelet', 'kube-proxy'] as const) {
    const s = componentSchemas(component);
    assert.ok(s.minors['1.36'], `${component} has 1.36`);
    for (const [minor, m] of Object.entries(s.minors)) {
      assert.equal(m.tag, `kubernetes-${minor}.0`);
      const commits = Object.entries(m.commits);
      assert.ok(commits.some(([file]) => file.startsWith(`${component}/`)), `${component} ${minor}: its own types.go`);
      for (const [file, commit] of commits) assert.match(commit, /^[0-9a-f]{40}$/, `${component} ${minor} ${file}`);
    }
  }
});

test('planted mistakes in the kubelet config fail: a misspelled field, a nested unknown field, a wrong type, a bad duration', () => {
  const misspelled = { ...renderedConfig('kubelet', 36) };
  misspelled['clusterDns'] = misspelled['clusterDNS'];
  delete misspelled['clusterDNS'];
  assert.deepEqual(validateComponentConfig('kubelet', misspelled, 36), ['(root): unknown field "clusterDns"']);

  const nested = structuredClone(renderedConfig('kubelet', 36));
  (nested['authentication'] as { webhook: Record<string, unknown> }).webhook['cacheTtl'] = '2m';
  assert.deepEqual(validateComponentConfig('kubelet', nested, 36), ['.authentication.webhook: unknown field "cacheTtl"']);

  const wrongType = { ...renderedConfig('kubelet', 36), clusterDNS: '10.32.0.10' };
  assert.deepEqual(validateComponentConfig('kubelet', wrongType, 36), ['.clusterDNS: should be array']);

  const duration = { ...renderedConfig('kubelet', 36), runtimeRequestTimeout: '15 minutes' };
  assert.equal(validateComponentConfig('kubelet', duration, 36).length, 1);
  assert.match(validateComponentConfig('kubelet', duration, 36)[0] ?? '', /^\.runtimeRequestTimeout: should match pattern/);
});

test('a field used before its release fails: containerRuntimeEndpoint is in KubeletConfiguration from 1.27, not 1.26', () => {
  const config = { ...renderedConfig('kubelet', 27) };
  assert.ok('containerRuntimeEndpoint' in config);
  assert.deepEqual(validateComponentConfig('kubelet', config, 27), []);
  assert.deepEqual(validateComponentConfig('kubelet', config, 26), ['(root): unknown field "containerRuntimeEndpoint"']);
  assert.ok(!('containerRuntimeEndpoint' in renderedConfig('kubelet', 26)), 'the renderer leaves it out at 1.26');
});

test('planted mistakes in the kube-proxy config fail: wrong case, wrong kind', () => {
  const config = structuredClone(renderedConfig('kube-proxy', 36));
  const cc = config['clientConnection'] as Record<string, unknown>;
  cc['kubeConfig'] = cc['kubeconfig'];
  delete cc['kubeconfig'];
  assert.deepEqual(validateComponentConfig('kube-proxy', config, 36), ['.clientConnection: unknown field "kubeConfig"']);
  assert.deepEqual(validateComponentConfig('kube-proxy', { ...renderedConfig('kube-proxy', 23), kind: 'KubeletConfiguration' }, 23), ['kind: must be KubeProxyConfiguration (got KubeletConfiguration)']);
});

// The version matrix: its facts, and a table-driven check that no rendered kubelet/kube-proxy unit
// carries a flag its Kubernetes minor lacks, for every minor 1.8 … current and both profiles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKubewrightError } from '../../src/errors.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import {
  allMinors,
  configFieldSupported,
  CURRENT_MINOR,
  FLAG_FACTS,
  flagSupported,
  kubeletSkewProblem,
  proxyModeSupported,
  removedFlags,
  type Component,
  type Minor,
} from '../../src/spec/matrix.ts';
import { exampleInput } from '../support/example-clusters.ts';

const v = (minor: number): Minor => ({ major: 1, minor });

// [component, flag, last minor that has it] — straight from DESIGN.md's version facts
const removals: [Component, string, number][] = [
  ['kubelet', '--allow-privileged', 14],
  ['kubelet', '--docker-endpoint', 23],
  ['kubelet', '--network-plugin', 23],
  ['kubelet', '--cni-conf-dir', 23],
  ['kubelet', '--cni-bin-dir', 23],
  ['kubelet', '--container-runtime', 26],
];

for (const [component, flag, last] of removals) {
  test(`${component} ${flag} exists through 1.${last} and is gone from 1.${last + 1}`, () => {
    assert.equal(flagSupported(component, flag, v(8)), true);
    assert.equal(flagSupported(component, flag, v(last)), true);
    assert.equal(flagSupported(component, `${flag}=anything`, v(last + 1)), false);
    assert.equal(flagSupported(component, flag, CURRENT_MINOR), false);
    assert.ok(removedFlags(component, v(last + 1)).includes(flag));
    assert.ok(!removedFlags(component, v(last)).includes(flag));
  });
}

test('flags added later are absent before their first minor', () => {
  assert.equal(flagSupported('kubelet', '--config', v(9)), false);
  assert.equal(flagSupported('kubelet', '--config=/var/lib/kubelet/config.yaml', v(10)), true);
  assert.equal(flagSupported('kube-proxy', '--config', CURRENT_MINOR), true);
});

test('a flag the matrix does not know is refused, not silently rendered', () => {
  assert.throws(() => flagSupported('kubelet', '--made-up-flag=1', v(20)), /--made-up-flag is not in FLAG_FACTS/);
});

test('every fact names its source and has a coherent range', () => {
  for (const f of FLAG_FACTS) {
    assert.ok(f.source.length > 0, `${f.component} ${f.flag}`);
    assert.match(f.flag, /^--?[a-z0-9][a-z0-9-]*$/, `${f.component} ${f.flag}`);
    if (f.since && f.removedIn) assert.ok(f.removedIn.minor > f.since.minor, `${f.component} ${f.flag}`);
  }
  const keys = FLAG_FACTS.map((f) => `${f.component} ${f.flag}`);
  assert.equal(new Set(keys).size, keys.length, 'no flag is listed twice');
});

test('nftables proxy mode exists from 1.33 and containerRuntimeEndpoint in KubeletConfiguration from 1.27', () => {
  assert.equal(proxyModeSupported('nftables', v(32)), false);
  assert.equal(proxyModeSupported('nftables', v(33)), true);
  assert.equal(proxyModeSupported('iptables', v(8)), true);
  assert.equal(configFieldSupported('KubeletConfiguration', 'containerRuntimeEndpoint', v(26)), false);
  assert.equal(configFieldSupported('KubeletConfiguration', 'containerRuntimeEndpoint', v(27)), true);
  assert.throws(() => configFieldSupported('KubeletConfiguration', 'noSuchField', v(27)), /not in CONFIG_FIELD_FACTS/);
});

/** The flags (`--name`, no value) on the ExecStart of a rendered unit, or undefined if not rendered. */
function execFlags(host: RenderedHost, unit: string): string[] | undefined {
  const f = host.files.find((x) => x.path.endsWith(`/${unit}`));
  if (!f) return undefined;
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(f.contents)?.[1] ?? '';
  return exec
    .replace(/\\\n/g, ' ')
    .split(/\s+/)
    .filter((a) => a.startsWith('-'))
    .map((a) => a.split('=')[0] ?? a);
}

function renderAt(profile: 'seed' | 'digitalocean', minor: Minor): RenderedHost | undefined {
  // a full version, so the artifact URLs need no resolution
  const input = exampleInput(profile, `${minor.major}.${minor.minor}.0`);
  return renderCluster(input).hosts.values().next().value;
}

// the seed profile runs docker, which the spec refuses from 1.24 (dockershim removal)
const seedMinors = allMinors().filter((m) => m.minor < 24);

test('the table covers every minor from 1.8 to current', () => {
  const minors = allMinors().map((m) => m.minor);
  assert.equal(minors[0], 8);
  assert.equal(minors.at(-1), CURRENT_MINOR.minor);
  assert.equal(minors.length, CURRENT_MINOR.minor - 7);
});

for (const minor of seedMinors) {
  test(`the seed units at 1.${minor.minor} carry no flag that 1.${minor.minor} lacks`, () => {
    const host = renderAt('seed', minor);
    assert.ok(host);
    for (const [unit, component] of [['kubelet.service', 'kubelet'], ['kube-proxy.service', 'kube-proxy']] as const) {
      const flags = execFlags(host, unit);
      assert.ok(flags && flags.length > 0, `${unit} rendered with flags`);
      for (const removed of removedFlags(component, minor)) assert.ok(!flags.includes(removed), `${unit} at 1.${minor.minor} has removed ${removed}`);
      for (const flag of flags) assert.ok(flagSupported(component, flag, minor), `${unit} at 1.${minor.minor}: ${flag}`);
    }
    // the post's flag set: --allow-privileged only up to 1.14
    const kubelet = execFlags(host, 'kubelet.service') ?? [];
    assert.equal(kubelet.includes('--allow-privileged'), minor.minor < 15);
    assert.ok(kubelet.includes('--container-runtime'));
  });
}

for (const minor of allMinors()) {
  test(`the modern units at 1.${minor.minor} carry only flags the matrix allows for 1.${minor.minor}`, (t) => {
    let host: RenderedHost | undefined;
    try {
      host = renderAt('digitalocean', minor);
    } catch (e) {
      // the spec may refuse old minors for the modern profile (exit 2): a spec rule, not a matrix breach
      if (!isKubewrightError(e) || e.exitCode !== 2) throw e;
      return t.skip(`modern profile at 1.${minor.minor} not renderable: ${e.message}`);
    }
    assert.ok(host);
    let checked = 0;
    for (const [unit, component] of [['kubelet.service', 'kubelet'], ['kube-proxy.service', 'kube-proxy']] as const) {
      const flags = execFlags(host, unit);
      if (!flags) continue;
      for (const removed of removedFlags(component, minor)) assert.ok(!flags.includes(removed), `${unit} at 1.${minor.minor} has removed ${removed}`);
      for (const flag of flags) assert.ok(flagSupported(component, flag, minor), `${unit} at 1.${minor.minor}: ${flag}`);
      checked += 1;
    }
    if (checked === 0) t.skip('the modern profile renders no kubelet/kube-proxy unit yet');
  });
}

test('verify reads the DNS Deployment under the apiVersion and name render wrote it with, for every minor of both profiles', async () => {
  const { parseAllDocuments } = await import('yaml');
  const { expectedDnsDeployment } = await import('../../src/verify/verify-cluster.ts');
  let compared = 0;
  for (const minor of allMinors()) {
    for (const name of ['seed', 'digitalocean'] as const) {
      // seed renders 1.8 … 1.23 (docker), modern 1.10 … current
      if (name === 'seed' ? minor.minor >= 24 : minor.minor < 10) continue;
      const base = exampleInput(name);
      const input = { ...base, cluster: { ...base.cluster, kubernetes: { ...base.cluster.kubernetes, version: { ...minor, patch: 0 } } } };
      const docs = renderCluster(input).cluster.flatMap((f) => (f.path.endsWith('.yaml') || f.path.endsWith('.yml') ? parseAllDocuments(f.contents).map((d) => d.toJS() as { kind?: string; apiVersion?: string; metadata?: { name?: string } } | null) : []));
      const deployment = docs.find((d) => d?.kind === 'Deployment');
      assert.ok(deployment, `${name} 1.${minor.minor}: no DNS Deployment rendered`);
      const expected = expectedDnsDeployment(input.cluster);
      assert.equal(expected.apiVersion, deployment.apiVersion, `${name} 1.${minor.minor}: apiVersion`);
      assert.equal(expected.name, deployment.metadata?.name, `${name} 1.${minor.minor}: name`);
      compared++;
    }
  }
  assert.ok(compared > 30, `compared ${compared} renders`);
});

test('kubelet skew: never newer than the API server; 3 minors older from an API server of 1.28, 2 before', () => {
  const v = (minor: number): Minor => ({ major: 1, minor });
  assert.match(kubeletSkewProblem(v(35), v(36)) ?? '', /may not be newer/);
  assert.equal(kubeletSkewProblem(v(36), v(36)), undefined);
  assert.equal(kubeletSkewProblem(v(36), v(33)), undefined);
  assert.match(kubeletSkewProblem(v(36), v(32)) ?? '', /at most 3 minor versions older .* \(it is 4\)/);
  assert.equal(kubeletSkewProblem(v(28), v(25)), undefined);
  assert.equal(kubeletSkewProblem(v(27), v(25)), undefined);
  assert.match(kubeletSkewProblem(v(27), v(24)) ?? '', /at most 2 minor versions older/);
  assert.match(kubeletSkewProblem({ major: 2, minor: 0 }, v(36)) ?? '', /major versions differ/);
});

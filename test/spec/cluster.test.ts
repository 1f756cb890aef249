import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SpecError } from '../../src/errors.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { starterSpec } from '../../src/spec/starter.ts';

const seed = readFileSync(new URL('../../examples/seed.yaml', import.meta.url), 'utf8');
const modern = readFileSync(new URL('../../examples/digitalocean.yaml', import.meta.url), 'utf8');

function issuesOf(text: string): { path: string; message: string; got?: string; hint?: string }[] {
  try {
    parseCluster(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e.issues;
  }
  assert.fail('spec was accepted');
}

test('the seed example resolves to the post: 1.8, docker, kube-dns, flannel 0.9 on etcd v2', () => {
  const c = parseCluster(seed, 'seed.yaml');
  assert.equal(c.profile, 'seed');
  assert.deepEqual(c.kubernetes.version, { major: 1, minor: 8, patch: 0 });
  assert.equal(c.runtime, 'docker');
  assert.equal(c.dns, 'kube-dns');
  assert.equal(c.versions.flannel, '0.9.0');
  assert.equal(c.etcd.api, 'v2');
  assert.equal(c.kubernetes.clusterDNS, '10.32.0.10');
  assert.equal(c.provider.kind, 'digitalocean');
});

test('the modern example defaults to containerd, CoreDNS and etcd v3', () => {
  const c = parseCluster(modern, 'digitalocean.yaml');
  assert.equal(c.profile, 'modern');
  assert.equal(c.runtime, 'containerd');
  assert.equal(c.dns, 'coredns');
  assert.equal(c.etcd.api, 'v3');
  assert.equal(c.workers.count, 3);
});

test('the starter spec from init is valid and counts its static hosts', () => {
  const c = parseCluster(starterSpec);
  assert.equal(c.workers.count, 3);
  assert.equal(c.provider.kind, 'static');
});

test('a DNS address outside serviceCIDR names the field, the value and the fix', () => {
  const [issue, ...rest] = issuesOf(starterSpec.replace('clusterDNS: 10.32.0.10', 'clusterDNS: 10.99.0.10'));
  assert.equal(rest.length, 0);
  assert.equal(issue?.path, 'kubernetes.clusterDNS');
  assert.match(issue?.message ?? '', /inside serviceCIDR 10\.32\.0\.0\/24/);
  assert.equal(issue?.got, '"10.99.0.10"');
  assert.match(issue?.hint ?? '', /serviceCIDR/);
});

test('overlapping pod and service CIDRs are refused', () => {
  const issues = issuesOf(starterSpec.replace('podCIDR: 10.200.0.0/16', 'podCIDR: 10.32.0.0/16'));
  assert.ok(issues.some((i) => i.path === 'kubernetes.podCIDR' && /overlap/.test(i.message)));
});

test('a CIDR with host bits set is refused', () => {
  const issues = issuesOf(starterSpec.replace('serviceCIDR: 10.32.0.0/24', 'serviceCIDR: 10.32.0.5/24'));
  assert.ok(issues.some((i) => i.path === 'kubernetes.serviceCIDR'));
});

test('two providers at once are refused', () => {
  const text = starterSpec.replace('  # lab: { hosts: 3 }', '  lab: { hosts: 3 }');
  const issues = issuesOf(text);
  assert.ok(issues.some((i) => i.path === 'provider' && /exactly one/.test(i.message)), JSON.stringify(issues));
});

test('an unknown field is named so a typo is caught', () => {
  const issues = issuesOf(starterSpec.replace('  clusterDomain:', '  clusterDomian:'));
  assert.ok(issues.some((i) => i.path === 'kubernetes.clusterDomian' && i.message === 'unknown field'));
});

test('docker with Kubernetes 1.24 or newer is refused with the reason', () => {
  const issues = issuesOf(seed.replace('version: 1.8.0', 'version: "1.24"'));
  assert.ok(issues.some((i) => i.path === 'runtime' && /dockershim/.test(i.message)));
});

test('nftables kube-proxy mode needs Kubernetes 1.33', () => {
  const issues = issuesOf(seed.replace('kubeProxyMode: iptables', 'kubeProxyMode: nftables'));
  assert.ok(issues.some((i) => i.path === 'kubernetes.kubeProxyMode'));
});

test('YAML syntax errors give a line and column', () => {
  const issues = issuesOf('apiVersion: kubewright.dev/v1alpha1\nkind: [Cluster\n');
  assert.match(issues[0]?.path ?? '', /^line \d+:\d+$/);
});

test('a missing required field says it is required', () => {
  const issues = issuesOf(starterSpec.replace(/ {2}apiServer: .*\n/, ''));
  assert.ok(issues.some((i) => i.path === 'kubernetes.apiServer' && i.message === 'is required'));
});

test('each profile refuses the other profile runtime and DNS addon at validation, naming the field', () => {
  const seedIssues = issuesOf(seed.replace('runtime: docker', 'runtime: containerd').replace('dns: kube-dns', 'dns: coredns'));
  assert.deepEqual(seedIssues.map((i) => i.path).sort(), ['dns', 'runtime']);
  const modernIssues = issuesOf(`${modern}runtime: docker\n`);
  assert.ok(modernIssues.some((i) => i.path === 'runtime' && /modern profile runs containerd/.test(i.message)));
});

test('a DigitalOcean etcd tag with characters DigitalOcean refuses is caught in the spec', () => {
  const issues = issuesOf(seed.replace('digitaloceanTag: k8s-etcd', 'digitaloceanTag: "k8s etcd!"'));
  assert.ok(issues.some((i) => i.path === 'etcd.discovery.digitaloceanTag'));
});

test('an exact pre-release version is kept as written: 1.30.0-rc.1 stays 1.30.0-rc.1, never the default minor', () => {
  const c = parseCluster(modern.replace(/version: "?[0-9.]+"?/, 'version: "1.30.0-rc.1"'), 'rc.yaml');
  assert.deepEqual(c.kubernetes.version, { major: 1, minor: 30, patch: 0, pre: 'rc.1' });
  const alpha = parseCluster(modern.replace(/version: "?[0-9.]+"?/, 'version: "v1.31.0-alpha.3"'), 'alpha.yaml');
  assert.deepEqual(alpha.kubernetes.version, { major: 1, minor: 31, patch: 0, pre: 'alpha.3' });
});

test('a version kubewright cannot build release URLs from is refused, naming kubernetes.version', () => {
  for (const bad of ['1.30-rc.1', '1.30.0-foo.1', '1.30.0+build.5', '1.30.0-rc']) {
    const issues = issuesOf(modern.replace(/version: "?[0-9.]+"?/, `version: "${bad}"`));
    const issue = issues.find((i) => i.path === 'kubernetes.version');
    assert.ok(issue, `${bad}: ${JSON.stringify(issues)}`);
    assert.match(issue.message, /pre-release of a patch/);
    assert.equal(issue.got, JSON.stringify(bad));
  }
});

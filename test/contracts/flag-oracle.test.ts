// Rendered kubelet and kube-proxy units, for every minor 1.8 … current and both profiles,
// against the version oracle (test/contracts/flag-oracle.ts: flag removals and deprecations
// from the upstream record, independent of src/spec/matrix.ts). Planted mistakes fail.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCluster } from '../../src/render/cluster.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { allMinors, flagSupported } from '../../src/spec/matrix.ts';
import { exampleInput } from '../support/example-clusters.ts';
import { CONFIG_API_RECORDS, FLAG_RECORDS, judgeFlag, oracleBreaches, unitFlags, withPlantedFlag, type OracleComponent } from './flag-oracle.ts';

type Profile = 'seed' | 'digitalocean';

function hostAt(profile: Profile, minor: number): RenderedHost {
  const h = renderCluster(exampleInput(profile, `1.${minor}.0`)).hosts.values().next().value;
  assert.ok(h);
  return h;
}

function unit(host: RenderedHost, name: string): string {
  const f = host.files.find((x) => x.path.endsWith(`/${name}`));
  assert.ok(f, `${host.name} renders ${name}`);
  return f.contents;
}

/** Every oracle breach in a host's kubelet and kube-proxy units at 1.<minor>; deprecated flags are listed apart. */
function breaches(host: RenderedHost, minor: number): { errors: string[]; deprecated: string[] } {
  return oracleBreaches([{ component: 'kubelet', text: unit(host, 'kubelet.service') }, { component: 'kube-proxy', text: unit(host, 'kube-proxy.service') }], minor);
}

const seedMinors = allMinors().map((m) => m.minor).filter((m) => m < 24);
const modernMinors = allMinors().map((m) => m.minor).filter((m) => m >= 10);

test('the seed units carry no flag their minor lacks, 1.8 … 1.23; deprecated ones are only the post\'s', () => {
  const errors: string[] = [];
  const deprecated = new Set<string>();
  for (const minor of seedMinors) {
    const r = breaches(hostAt('seed', minor), minor);
    errors.push(...r.errors);
    for (const d of r.deprecated) deprecated.add(d);
  }
  assert.deepEqual(errors, []);
  // the post's flags, kept on purpose for fidelity while the kubelet still accepts them
  assert.deepEqual([...deprecated].sort(), ['kubelet --allow-privileged', 'kubelet --cluster-dns', 'kubelet --cluster-domain']);
});

test('the modern units carry no removed, not-yet-existing or deprecated flag, 1.10 … current', () => {
  const problems: string[] = [];
  for (const minor of modernMinors) {
    const r = breaches(hostAt('digitalocean', minor), minor);
    problems.push(...r.errors, ...r.deprecated.map((d) => `${d} at 1.${minor}: deprecated`));
  }
  assert.deepEqual(problems, []);
});

test('the modern config files use API versions their minor serves', () => {
  for (const minor of modernMinors) {
    const host = hostAt('digitalocean', minor);
    for (const [path, component] of [['/var/lib/kubelet/config.yaml', 'kubelet'], ['/var/lib/kube-proxy/config.yaml', 'kube-proxy']] as const) {
      const file = host.files.find((f) => f.path === path);
      assert.ok(file, `1.${minor} ${path}`);
      const apiVersion = (parse(file.contents) as { apiVersion: string }).apiVersion;
      const record = CONFIG_API_RECORDS.find((r) => r.component === component && r.apiVersion === apiVersion);
      assert.ok(record, `${path}: ${apiVersion} is not in the oracle`);
      assert.ok(minor >= record.since, `1.${minor} ${path}: ${apiVersion} only from 1.${record.since}`);
    }
  }
});

const withFlag = withPlantedFlag<RenderedHost>;

test('planted: a removed flag rendered for its version fails, naming the removal and its reference', () => {
  const seed15 = withFlag(hostAt('seed', 15), 'kubelet.service', '--allow-privileged=true');
  assert.deepEqual(breaches(seed15, 15).errors, [`kubelet --allow-privileged at 1.15: removed in 1.15 (${judgeFlag('kubelet', '--allow-privileged', 15).record?.ref})`]);
  assert.deepEqual(breaches(withFlag(hostAt('seed', 14), 'kubelet.service', '--allow-privileged=true'), 14).errors, []);

  const modern27 = withFlag(hostAt('digitalocean', 27), 'kubelet.service', '--container-runtime=remote');
  assert.match(breaches(modern27, 27).errors.join('\n'), /^kubelet --container-runtime at 1\.27: removed in 1\.27 \(.*kubernetes#114017\)\)$/);
  const modern24 = withFlag(hostAt('digitalocean', 24), 'kubelet.service', '--network-plugin=cni');
  assert.match(breaches(modern24, 24).errors.join('\n'), /^kubelet --network-plugin at 1\.24: removed in 1\.24 \(kubernetes#106907/);
});

test('planted: a flag the oracle does not know, or one used before it exists, fails', () => {
  assert.match(breaches(withFlag(hostAt('digitalocean', 30), 'kube-proxy.service', '--masquerade-all=true'), 30).errors.join('\n'), /kube-proxy --masquerade-all: not in the oracle/);
  // --config meant --pod-manifest-path before 1.10
  assert.match(breaches(withFlag(hostAt('seed', 9), 'kubelet.service', '--config=/var/lib/kubelet/config.yaml'), 9).errors.join('\n'), /kubelet --config at 1\.9: only from 1\.10/);
});

test('every oracle row cites an upstream record', () => {
  for (const r of [...FLAG_RECORDS, ...CONFIG_API_RECORDS]) {
    assert.match(r.ref, /kubernetes(\/[a-z-]+)?#\d+|CHANGELOG-1\.\d+|--help/, `${r.component} ${'flag' in r ? r.flag : r.apiVersion}`);
  }
});

test('the matrix the renderers use agrees with the oracle on every removal both know', () => {
  const compared: string[] = [];
  for (const r of FLAG_RECORDS.filter((x) => x.removedIn !== undefined)) {
    const component = r.component as OracleComponent;
    let last: boolean;
    let first: boolean;
    try {
      last = flagSupported(component, r.flag, { major: 1, minor: (r.removedIn ?? 0) - 1 });
      first = flagSupported(component, r.flag, { major: 1, minor: r.removedIn ?? 0 });
    } catch {
      continue; // a flag the matrix does not list is one the renderers never emit
    }
    assert.deepEqual([last, first], [true, false], `${component} ${r.flag}: the matrix disagrees with the oracle (removed in 1.${r.removedIn})`);
    compared.push(r.flag);
  }
  assert.ok(compared.length >= 5, `compared ${compared.join(' ')}`);
});

/** Flags on a flanneld unit that flannel `tag` does not register (main.go at that tag). */
function flanneldProblems(unitText: string, tag: string): string[] {
  const known = JSON.parse(readFileSync(new URL('./flanneld/flags.json', import.meta.url), 'utf8')) as { versions: Record<string, { flags: string[] }> };
  const flags = known.versions[tag]?.flags;
  if (!flags) return [`flannel ${tag} has no extracted flag list — run test/contracts/flanneld/extract-flags.ts for it`];
  return unitFlags(unitText)
    .map((f) => (f.split('=')[0] ?? '').replace(/^--?/, ''))
    .filter((name) => !flags.includes(name))
    .map((name) => `flanneld ${tag} has no flag -${name}`);
}

test('the flanneld units use only flags their pinned flannel release registers (main.go at its tag)', () => {
  const problems: string[] = [];
  for (const [profile, minors] of [['seed', seedMinors], ['digitalocean', modernMinors]] as const) {
    for (const minor of minors) {
      const input = exampleInput(profile, `1.${minor}.0`);
      const tag = `v${input.cluster.versions.flannel.replace(/^v/, '')}`;
      const host = renderCluster(input).hosts.values().next().value;
      assert.ok(host);
      problems.push(...flanneldProblems(unit(host, 'flanneld.service'), tag).map((p) => `${profile} 1.${minor}: ${p}`));
    }
  }
  assert.deepEqual(problems, []);
});

test('planted: a flanneld flag newer than the pinned release fails (-public-ipv6 is not in v0.9.0)', () => {
  const seed = withFlag(hostAt('seed', 8), 'flanneld.service', '-public-ipv6=2001:db8::1');
  assert.deepEqual(flanneldProblems(unit(seed, 'flanneld.service'), 'v0.9.0'), ['flanneld v0.9.0 has no flag -public-ipv6']);
  assert.deepEqual(flanneldProblems(unit(seed, 'flanneld.service'), 'v0.27.4'), []);
});

// Rendered kube-apiserver, kube-controller-manager and kube-scheduler units, for every minor of
// both profiles, against the version oracle (test/contracts/flag-oracle.ts, independent of
// src/spec/matrix.ts); planted mistakes fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderControlPlaneHost } from '../../src/render/control-plane/master-host.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { allMinors, flagSupported } from '../../src/spec/matrix.ts';
import { controlPlaneInput, exampleMasters } from '../support/control-plane-input.ts';
import { FLAG_RECORDS, oracleBreaches, unitFlags, withPlantedFlag, type OracleComponent } from './flag-oracle.ts';

type Profile = 'seed' | 'digitalocean';
const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

function masterAt(profile: Profile, minor: number): RenderedHost {
  const master = exampleMasters[0];
  assert.ok(master);
  return renderControlPlaneHost(controlPlaneInput(profile, `1.${minor}.0`), master);
}

function unitOf(host: RenderedHost, component: string): string {
  const f = host.files.find((x) => x.path.endsWith(`/${component}.service`));
  assert.ok(f, `${host.name} renders ${component}.service`);
  return f.contents;
}

function breaches(host: RenderedHost, minor: number): { errors: string[]; deprecated: string[] } {
  return oracleBreaches(COMPONENTS.map((component) => ({ component, text: unitOf(host, component) })), minor);
}

const seedMinors = allMinors().map((m) => m.minor).filter((m) => m < 24);
const modernMinors = allMinors().map((m) => m.minor).filter((m) => m >= 10);

test("the seed control-plane units carry no flag their minor lacks, 1.8 … 1.23; deprecated ones are only the post's time's", () => {
  const errors: string[] = [];
  const deprecated = new Set<string>();
  for (const minor of seedMinors) {
    const r = breaches(masterAt('seed', minor), minor);
    errors.push(...r.errors);
    for (const d of r.deprecated) deprecated.add(d);
  }
  assert.deepEqual(errors, []);
  assert.deepEqual([...deprecated].sort(), ['kube-apiserver --admission-control', 'kube-apiserver --kubelet-https', 'kube-scheduler --kubeconfig']);
});

test('the modern control-plane units carry no removed, not-yet-existing or deprecated flag, 1.10 … current', () => {
  const problems: string[] = [];
  for (const minor of modernMinors) {
    const r = breaches(masterAt('digitalocean', minor), minor);
    problems.push(...r.errors, ...r.deprecated.map((d) => `${d} at 1.${minor}: deprecated`));
  }
  assert.deepEqual(problems, []);
});

test('the matrix follows each version: the encryption flag is renamed at 1.13, --kubelet-https leaves at 1.22, Initializers at 1.14, service-account signing arrives at 1.20', () => {
  const apiserver = (profile: Profile, minor: number): string[] => unitFlags(unitOf(masterAt(profile, minor), 'kube-apiserver')).map((f) => f.split('=')[0] ?? '');
  assert.ok(apiserver('seed', 12).includes('--experimental-encryption-provider-config'));
  assert.ok(apiserver('seed', 13).includes('--encryption-provider-config'));
  assert.ok(apiserver('seed', 21).includes('--kubelet-https'));
  assert.ok(!apiserver('seed', 22).includes('--kubelet-https'));
  assert.ok(!apiserver('seed', 19).includes('--service-account-issuer'));
  assert.ok(apiserver('seed', 20).includes('--service-account-issuer'));
  assert.match(unitOf(masterAt('seed', 13), 'kube-apiserver'), /--admission-control=Initializers,NamespaceLifecycle/);
  assert.match(unitOf(masterAt('seed', 14), 'kube-apiserver'), /--admission-control=NamespaceLifecycle/);
  assert.ok(!apiserver('digitalocean', 31).includes('--authentication-config'));
  assert.ok(apiserver('digitalocean', 32).includes('--authentication-config'));
});

test('every control-plane flag the renderers emit is one the oracle knows, at the etcd and master count given', () => {
  const apiserver = unitOf(masterAt('seed', 8), 'kube-apiserver');
  assert.match(apiserver, /--apiserver-count=3 /);
  assert.match(apiserver, /--etcd-servers=https:\/\/10\.133\.0\.11:2379,https:\/\/10\.133\.0\.12:2379,https:\/\/10\.133\.0\.13:2379 /);
  assert.match(apiserver, /--advertise-address=10\.133\.0\.11 /);
});

const withFlag = (host: RenderedHost, component: string, flag: string): RenderedHost => withPlantedFlag(host, `${component}.service`, flag);

test('planted: a removed, an unknown and a too-new control-plane flag fail, naming the upstream record', () => {
  const removed = breaches(withFlag(masterAt('seed', 22), 'kube-apiserver', '--kubelet-https=true'), 22).errors.join('\n');
  assert.match(removed, /^kube-apiserver --kubelet-https at 1\.22: removed in 1\.22 \(.*kubernetes#101178/);
  const unknown = breaches(withFlag(masterAt('digitalocean', 30), 'kube-controller-manager', '--made-up=1'), 30).errors.join('\n');
  assert.match(unknown, /kube-controller-manager --made-up: not in the oracle/);
  const early = breaches(withFlag(masterAt('digitalocean', 12), 'kube-scheduler', '--bind-address=127.0.0.1'), 12).errors.join('\n');
  assert.match(early, /kube-scheduler --bind-address at 1\.12: only from 1\.13/);
  const renamed = breaches(withFlag(masterAt('digitalocean', 14), 'kube-apiserver', '--experimental-encryption-provider-config=/x'), 14).errors.join('\n');
  assert.match(renamed, /removed in 1\.14 \(.*kubernetes#71206\)/);
});

test('the matrix agrees with the oracle on every control-plane removal both know', () => {
  const compared: string[] = [];
  for (const r of FLAG_RECORDS.filter((x) => x.removedIn !== undefined && (COMPONENTS as readonly string[]).includes(x.component))) {
    let pair: [boolean, boolean];
    try {
      pair = [flagSupported(r.component, r.flag, { major: 1, minor: (r.removedIn ?? 0) - 1 }), flagSupported(r.component, r.flag, { major: 1, minor: r.removedIn ?? 0 })];
    } catch {
      continue; // a flag the matrix does not list is one the renderers never emit
    }
    assert.deepEqual(pair, [true, false], `${r.component} ${r.flag}`);
    compared.push(r.flag);
  }
  assert.deepEqual(compared.sort(), ['--experimental-encryption-provider-config', '--kubelet-https']);
  const oracle = new Set<OracleComponent>(FLAG_RECORDS.map((r) => r.component));
  for (const c of COMPONENTS) assert.ok(oracle.has(c));
});

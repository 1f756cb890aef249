// The artifact lockfile end to end: `plan`/`apply`/`artifacts lock` on loopback sshd hosts (their
// systemctl is a TEST DOUBLE, see test/support/sshd-hosts.ts) with a real HTTP mirror on loopback
// that logs every request. Proves: first apply records every artifact, member digest and the
// resolved patch; with an EMPTY cache, plan and apply on converged hosts change nothing and
// download nothing; each archive is extracted in one tar run; a replaced artifact (with a matching
// replaced checksum file) is refused against the lockfile; `artifacts lock --update` changes it
// on purpose and plan then shows the change; a plain-http mirror is refused unless all is locked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseLockfile } from '../../src/artifacts/lockfile.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror, standInScript } from '../support/artifact-mirror.ts';
import { startHttpMirror, type HttpMirror } from '../support/http-mirror.ts';
import { staticSpecYaml } from '../support/lab-spec.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';

let lab: SshdHosts;
let http: HttpMirror;
let specFile: string;
let lockPath: string;
let binaries: BinarySpec[];
let specFor: (mirror: string) => string;
let tarLog: string;
const savedPath = process.env['PATH'];

before(async () => {
  lab = await startSshdHosts(2, 'lk');
  const mirrorDir = join(lab.dir, 'mirror');
  const base = (mirror: string, pins: Record<string, string>): string => staticSpecYaml({ name: 'lk', lab, mirror, pins });
  const cluster = parseCluster(base('/x', {}), join(lab.dir, 'cluster.yaml'));
  binaries = renderCluster({ cluster, hosts: plannedHosts(cluster), kubernetesVersion: '1.36.2' }).hosts.values().next().value!.binaries;
  const mirror = await buildArtifactMirror(mirrorDir, binaries, { stable: { minor: '1.36', version: 'v1.36.2' } });
  http = await startHttpMirror(mirrorDir);
  specFor = (m) => base(m, mirror.pins);
  specFile = join(lab.dir, 'cluster.yaml');
  lockPath = join(lab.dir, 'cluster.lock');
  await writeFile(specFile, specFor(http.url));
  // tar TEST WRAPPER first in PATH: logs each run, then runs the real tar
  const bin = join(lab.dir, 'tar-bin');
  tarLog = join(lab.dir, 'tar.log');
  await mkdir(bin);
  await writeFile(join(bin, 'tar'), `#!/bin/sh\n# tar TEST WRAPPER (test/artifacts/lockfile-cli.test.ts)\necho "$*" >>${tarLog}\nexec /usr/bin/tar "$@"\n`, { mode: 0o755 });
  process.env['PATH'] = `${bin}:${savedPath}`;
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache-1');
});
after(async () => {
  process.env['PATH'] = savedPath;
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await http?.close();
  await lab?.stop();
});

const archives = (): string[] => [...new Set(binaries.filter((b) => b.archiveMember !== undefined).map((b) => b.url))];
const tarRuns = async (): Promise<string[]> => (await readFile(tarLog, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('-xf'));

test('plan before the first apply lists what the lockfile will record, and writes no lockfile', async () => {
  const r = await runCli('plan', '-f', specFile);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^lockfile ${lockPath}: \\+ kubernetes 1\\.36 → 1\\.36\\.2 \\(recorded by apply\\)$`, 'm'));
  assert.match(r.stdout, /^lockfile: {3}\+ https:\/\/dl\.k8s\.io\/release\/v1\.36\.2\/bin\/linux\/amd64\/kubelet$/m);
  await assert.rejects(stat(lockPath), { code: 'ENOENT' });
});

test('the first apply records every artifact, member digest and the resolved patch; each archive is downloaded once and extracted in one tar run', async () => {
  http.requests.length = 0;
  const r = await runCli('apply', '-f', specFile);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`^lockfile ${lockPath}: recorded \\d+ new entries`, 'm'));
  const lock = parseLockfile(await readFile(lockPath, 'utf8'), lockPath);
  assert.deepEqual(lock.kubernetes, { '1.36': '1.36.2' });
  assert.deepEqual(Object.keys(lock.artifacts).sort(), [...new Set(binaries.map((b) => b.url))].sort());
  const containerd = binaries.find((b) => b.name === 'containerd')!;
  assert.deepEqual(Object.keys(lock.artifacts[containerd.url]!.members ?? {}).sort(), ['bin/containerd', 'bin/containerd-shim-runc-v2', 'bin/ctr']);
  assert.equal(lock.artifacts[containerd.url]!.members!['bin/containerd'], createHash('sha256').update(standInScript('containerd')).digest('hex'));
  for (const url of archives()) assert.equal(http.requests.filter((p) => p === `/${new URL(url).host}${new URL(url).pathname}`).length, 1, url);
  assert.equal((await tarRuns()).length, archives().length, 'one tar run per archive, not one per member');
});

test('with an empty cache, plan on converged hosts says no change and apply changes and downloads nothing', async () => {
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache-empty');
  http.requests.length = 0;
  const plan = await runCli('plan', '-f', specFile);
  assert.equal(plan.code, 0, plan.stderr);
  for (const h of lab.hosts) assert.match(plan.stdout, new RegExp(`^${h.name}: no changes$`, 'm'));
  assert.doesNotMatch(plan.stdout, /may differ|restart|lockfile:/);
  const apply = await runCli('apply', '-f', specFile);
  assert.equal(apply.code, 0, apply.stderr);
  for (const h of lab.hosts) assert.match(apply.stdout, new RegExp(`^${h.name}\\s+unchanged\\s+0`, 'm'));
  assert.deepEqual(http.requests, [], 'nothing was requested from the mirror');
  await assert.rejects(stat(join(lab.dir, 'cache-empty', 'sha256')), { code: 'ENOENT' });
});

test('an artifact replaced on the mirror together with its checksum file is refused against the lockfile', async () => {
  const kubelet = binaries.find((b) => b.name === 'kubelet')!;
  const lockBefore = await readFile(lockPath, 'utf8');
  // the mirror now serves other kubelet bytes of the same size with a matching .sha256: a published checksum cannot catch this
  const replaced = standInScript('kubelet').replace('logs its argv', 'LOGS ITS ARGV');
  const where = join(lab.dir, 'mirror', 'dl.k8s.io', new URL(kubelet.url).pathname);
  await writeFile(where, replaced);
  await writeFile(`${where}.sha256`, `${createHash('sha256').update(replaced).digest('hex')}\n`);
  const h = lab.hosts[0]!;
  await rm(join(h.root, 'usr/local/bin/kubelet'));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(lab.dir, 'cache-3');
  const r = await runCli('apply', '-f', specFile);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${h.name}: artifact ${kubelet.url.replace(/\./g, '\\.')}: sha256 mismatch \\(expected [0-9a-f]{64} from ${lockPath}`));
  await assert.rejects(stat(join(h.root, 'usr/local/bin/kubelet')), { code: 'ENOENT' });
  assert.equal(await readFile(lockPath, 'utf8'), lockBefore, 'the lockfile is not changed by a mismatch');
});

test('artifacts lock --update changes the entry on purpose, and plan then shows the new binary', async () => {
  const kubelet = binaries.find((b) => b.name === 'kubelet')!;
  const old = parseLockfile(await readFile(lockPath, 'utf8'), lockPath).artifacts[kubelet.url]!.sha256;
  const r = await runCli('artifacts', 'lock', '-f', specFile, '--update');
  assert.equal(r.code, 0, r.stderr);
  const fresh = createHash('sha256').update(standInScript('kubelet').replace('logs its argv', 'LOGS ITS ARGV')).digest('hex');
  assert.match(r.stdout, new RegExp(`^~ ${kubelet.url.replace(/\./g, '\\.')} ${old} → ${fresh}$`, 'm'));
  assert.match(r.stdout, /: 1 change\(s\) for amd64/);
  assert.equal(parseLockfile(await readFile(lockPath, 'utf8'), lockPath).artifacts[kubelet.url]!.sha256, fresh);
  const plan = await runCli('plan', '-f', specFile);
  for (const h of lab.hosts) assert.match(plan.stdout, new RegExp(`^${h.name}:   ↓ install /usr/local/bin/kubelet from .* \\((content changed|missing)\\)$`, 'm'));
  const again = await runCli('artifacts', 'lock', '-f', specFile);
  assert.match(again.stdout, /: up to date for amd64$/m);
});

test('a plain-http mirror off loopback is refused unless every artifact is locked', async () => {
  const offLoopback = 'http://mirror.invalid';
  const dir = join(lab.dir, 'insecure');
  await mkdir(dir);
  const unlocked = join(dir, 'cluster.yaml');
  await writeFile(unlocked, specFor(offLoopback).replace(/checksums: .*/, 'checksums: {}'));
  const r = await runCli('plan', '-f', unlocked);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /artifacts\.mirror: http:\/\/mirror\.invalid\/dl\.k8s\.io\/release\/stable-1\.36\.txt is plain http and kubernetes 1\.36 .* is neither locked in .*cluster\.lock nor pinned/);
  // with every artifact locked the same mirror is accepted: plan needs nothing from it (it never resolves)
  await writeFile(join(dir, 'cluster.lock'), await readFile(lockPath));
  const locked = await runCli('plan', '-f', unlocked);
  assert.equal(locked.code, 0, locked.stderr);
  assert.match(locked.stdout, new RegExp(`^${lab.hosts[1]!.name}:   ↓ install /usr/local/bin/kubelet from https://dl\\.k8s\\.io/release/v1\\.36\\.2/bin/linux/amd64/kubelet \\(content changed\\)$`, 'm'));
});

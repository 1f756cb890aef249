// Fault injection: the SSH connection of each of three loopback sshd hosts is killed at a
// seeded random byte during apply, 20 runs in a row, alternating between two desired states.
// After every run no managed file may be partial (each is absent or a complete old/new
// version with its mode), and the next uninterrupted apply converges.
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { tempMarker } from '../../src/exec/temp-name.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { runHosts, type HostOutcome } from '../../src/run/run-hosts.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { buildArtifactMirror, standInScript } from '../support/artifact-mirror.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';
import { startCuttingProxy, type CuttingProxy } from './cutting-proxy.ts';
import { fixtureBinaries, fixtureHost } from './fixture-host.ts';

let lab: SshdHosts;
let proxies: CuttingProxy[] = [];
let store: ArtifactStore;

/** mulberry32: a small seeded PRNG so every run's cut points are reproducible */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const variantB = (): ReturnType<typeof fixtureBinaries> => [...fixtureBinaries().filter((b) => b.name !== 'kubelet'), fixtureBinaries('v1.36.3').find((b) => b.name === 'kubelet')!];
const desired = (name: string, v: 'A' | 'B'): RenderedHost => (v === 'A' ? fixtureHost(name) : fixtureHost(name, { clusterDNS: '10.32.0.99', binaries: variantB() }));

before(async () => {
  lab = await startSshdHosts(3, 'ft');
  proxies = await Promise.all(lab.hosts.map((h) => startCuttingProxy(h.port)));
  const mirror = join(lab.dir, 'mirror');
  await buildArtifactMirror(mirror, fixtureBinaries());
  const b = await buildArtifactMirror(mirror, fixtureBinaries('v1.36.3').filter((x) => x.name === 'kubelet'), { tag: 'v1.36.3' });
  const a = await buildArtifactMirror(join(lab.dir, 'mirror-pins'), fixtureBinaries());
  store = new ArtifactStore({ mirror, pins: { ...a.pins, ...b.pins }, cacheDir: join(lab.dir, 'cache') });
});
after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await lab?.stop();
});

async function apply(v: 'A' | 'B'): Promise<HostOutcome[]> {
  return runHosts(
    lab.hosts.map((h) => ({ host: { name: h.name, address: '127.0.0.1', port: proxies[lab.hosts.indexOf(h)]!.port, user: 'root' }, desired: desired(h.name, v) })),
    {
      mode: 'apply',
      parallel: 10,
      binaries: store,
      waitActiveTimeoutSec: 5,
      waitActiveSettleSec: 0,
      connect: (host) =>
        SshExecutor.connect({ name: host.name, address: host.address!, port: host.port, user: 'root' }, {
          privateKey: lab.privateKey,
          knownHostsPath: lab.knownHostsPath.replace('known_hosts', 'known_hosts.proxied'),
          acceptNewHostKeys: true,
          readyTimeoutMs: 5_000,
        }),
    },
  );
}

/** every managed path is absent or byte-equal (with mode) to its A or B version */
async function assertNoPartialFiles(run: string): Promise<void> {
  for (const h of lab.hosts) {
    const versions = new Map<string, { data: string; mode: number }[]>();
    for (const v of ['A', 'B'] as const) {
      const d = desired(h.name, v);
      for (const f of d.files) versions.set(f.path, [...(versions.get(f.path) ?? []), { data: f.contents, mode: f.mode }]);
      for (const b of d.binaries) {
        const tag = b.url.includes('v1.36.3') ? 'v1.36.3' : '';
        versions.set(b.path, [...(versions.get(b.path) ?? []), { data: standInScript(b.name, tag), mode: b.mode }]);
      }
    }
    for (const [path, allowed] of versions) {
      const file = join(h.root, path);
      const data = await readFile(file, 'utf8').catch(() => undefined);
      if (data === undefined) continue;
      const mode = (await stat(file)).mode & 0o777;
      assert.ok(allowed.some((a) => a.data === data && a.mode === mode), `${run}: ${h.name}:${path} is partial or foreign (${data.length} bytes, mode ${mode.toString(8)})`);
    }
  }
}

async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.name.includes(tempMarker)) found.push(join(e.parentPath, e.name));
  return found;
}

test('killing the ssh connection at 20 seeded random points never leaves a partial file, and the next apply converges', async () => {
  // uninterrupted applies measure how many bytes a change A → B and B → A moves per host
  const first = await apply('A');
  for (const o of first) assert.equal(o.status, 'changed', String(o.error));
  await apply('B');
  const bytesAB = proxies.map((p) => p.lastBytes);
  await apply('A');
  const bytesBA = proxies.map((p) => p.lastBytes);
  let cuts = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const rand = prng(seed);
    const v = seed % 2 === 1 ? 'B' : 'A';
    proxies.forEach((p, i) => {
      p.cutAfter = Math.floor(rand() * Math.max(bytesAB[i]!, bytesBA[i]!));
    });
    const cut = await apply(v);
    cuts += proxies.filter((p) => p.lastCut).length;
    for (const [i, o] of cut.entries()) if (proxies[i]!.lastCut) assert.notEqual(o.status, 'unchanged');
    await assertNoPartialFiles(`seed ${seed} (cut)`);

    for (const p of proxies) p.cutAfter = Infinity;
    const converge = await apply(v);
    for (const o of converge) assert.notEqual(o.status, 'failed', `seed ${seed}: ${o.host}: ${String(o.error)}`);
    await assertNoPartialFiles(`seed ${seed} (converged)`);
    for (const h of lab.hosts) {
      const d = desired(h.name, v);
      for (const f of d.files) assert.equal(await readFile(join(h.root, f.path), 'utf8'), f.contents, `seed ${seed}: ${h.name}:${f.path}`);
      assert.deepEqual(await tempFiles(h.root), [], `seed ${seed}: ${h.name}: temp files cleaned up`);
    }
  }
  assert.ok(cuts >= 50, `nearly every run was really cut (${cuts} of 60)`);
  const noop = await apply('A');
  for (const o of noop) assert.equal(o.status, 'unchanged');
});

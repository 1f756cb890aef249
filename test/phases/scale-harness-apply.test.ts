// Plan and apply over 50 hosts of the scale harness (test/support/ssh-harness.ts: a TEST DOUBLE
// of SSH hosts, checked against a lab machine in ssh-harness-vs-lab.test.ts) with --parallel 10,
// through the CLI in this process: the connections the harness counts stay within --parallel, and
// the first apply uploads the kubelet from the one cached copy as a stream (while the hosts hold
// the upload, each open read of the cache file has read only a bounded part of it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { gatherScript } from '../../src/phases/gather-facts.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { staticSpecYaml } from '../support/lab-spec.ts';
import { SshHarness } from '../support/ssh-harness.ts';

const N = 50;
const PARALLEL = 10;
const KUBELET_BYTES = 8 * 1024 * 1024;
let dir = '';
let spec = '';
let harness: SshHarness;
let client: { privateKeyPath: string; knownHostsPath: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-scale-harness-'));
  harness = await SshHarness.start({ count: N });
  client = await harness.writeClientFiles(dir);
  spec = join(dir, 'cluster.yaml');
  const text = (pins: Record<string, string>): string => staticSpecYaml({ name: 'scale', lab: { dir, hosts: harness.hosts, ...client }, mirror: join(dir, 'mirror'), pins });
  const cluster = parseCluster(text({}), spec);
  const binaries = renderCluster({ cluster, hosts: plannedHosts(cluster), kubernetesVersion: '1.36.2' }).hosts.values().next().value!.binaries;
  const mirror = await buildArtifactMirror(join(dir, 'mirror'), binaries, { stable: { minor: '1.36', version: 'v1.36.2' }, padToBytes: KUBELET_BYTES, padOnly: ['kubelet'] });
  await writeFile(spec, text(mirror.pins));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache');
});

after(async () => {
  delete process.env['KUBEWRIGHT_CACHE_DIR'];
  await harness?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a command the harness does not know fails loudly and is recorded', async () => {
  const h = harness.hosts[0]!;
  const x = await SshExecutor.connect({ name: h.name, address: '127.0.0.1', port: h.port, user: 'root' }, { privateKey: harness.clientKey.private, knownHostsPath: client.knownHostsPath });
  try {
    const r = await x.exec('ls /etc', { allowFailure: true });
    assert.equal(r.code, 97);
    assert.match(r.stderr, /unrecognised command/);
    assert.deepEqual(harness.unrecognised.splice(0), [`${h.name}: ls /etc`]);
    // the gather script as kubewright writes it is answered; one line more is drift, refused
    const desired = { name: h.name, files: [{ path: '/etc/kw-test.conf', contents: 'x', mode: 0o644 }], binaries: [], units: [{ name: 'kubelet' }] } as unknown as RenderedHost;
    assert.match((await x.exec(gatherScript(desired))).stdout, /^@end$/m);
    assert.equal((await x.exec(`${gatherScript(desired)}\necho @extra`, { allowFailure: true })).code, 97);
    assert.equal(harness.unrecognised.splice(0).length, 1);
  } finally {
    await x.close();
  }
});

test(`plan over ${N} hosts with --parallel ${PARALLEL}: one connection per host, at most ${PARALLEL} at once`, async () => {
  harness.resetConnectionCount();
  const r = await runCli('plan', '-f', spec, '--parallel', String(PARALLEL), '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { summary: { changed: number } };
  assert.equal(doc.summary.changed, N);
  assert.equal(harness.connections.total, N);
  assert.ok(harness.connections.max <= PARALLEL, `max ${harness.connections.max} connections`);
  assert.deepEqual(harness.unrecognised, []);
});

/** Read positions of this process's open files under `cacheDir` of at least `minBytes`. */
async function openCacheReads(cacheDir: string, minBytes: number): Promise<{ path: string; pos: number }[]> {
  const out: { path: string; pos: number }[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const path = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (!path.startsWith(cacheDir) || ((await stat(path).catch(() => undefined))?.size ?? 0) < minBytes) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const pos = /^pos:\s+(\d+)$/m.exec(info)?.[1];
    if (pos !== undefined) out.push({ path, pos: Number(pos) });
  }
  return out;
}

test(`first apply over ${N} hosts: at most ${PARALLEL} connections, the kubelet streamed from its one cached copy; the re-run is one command per host`, async () => {
  harness.resetConnectionCount();
  // every host holds its kubelet upload until the open reads of the cache are looked at
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const holding = new Set<string>();
  for (const h of harness.hosts) {
    h.faults.beforeWrite = (path) => {
      if (!path.startsWith('/usr/local/bin/.kubelet.kw-tmp-')) return undefined;
      holding.add(h.name);
      return released;
    };
  }
  const applying = runCli('apply', '-f', spec, '--parallel', String(PARALLEL), '-o', 'json');
  let reads: { path: string; pos: number }[] = [];
  try {
    // bounded: 120 s for the first PARALLEL hosts to reach their kubelet upload
    for (let i = 0; i < 1200 && holding.size < PARALLEL; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(holding.size, PARALLEL, 'every host in flight reached its kubelet upload');
    reads = await openCacheReads(join(dir, 'cache'), KUBELET_BYTES);
  } finally {
    release();
  }
  const r = await applying;
  assert.equal(r.code, 0, r.stderr);
  // a stream per upload: each held host's read of the cached file is open, a bounded way in
  assert.equal(reads.length, PARALLEL, `open reads of the cached kubelet: ${JSON.stringify(reads)}`);
  assert.equal(new Set(reads.map((x) => x.path)).size, 1, 'all from the one cached copy');
  for (const x of reads) assert.ok(x.pos < KUBELET_BYTES / 2, `read ${x.pos} of ${KUBELET_BYTES} bytes while the host held the upload`);
  assert.ok(harness.connections.max <= PARALLEL, `max ${harness.connections.max} connections`);
  const bytes = await readFile(reads[0]!.path);
  const cached = createHash('sha256').update(bytes).digest('hex');
  for (const h of harness.hosts) {
    const kubelet = h.files.get('/usr/local/bin/kubelet');
    assert.deepEqual([kubelet?.size, kubelet?.sha256], [bytes.length, cached], h.name);
    assert.ok(h.unitActive('kubelet.service'), `${h.name}: kubelet runs`);
    h.faults.beforeWrite = undefined;
    h.commands.length = 0;
  }
  const again = await runCli('apply', '-f', spec, '--parallel', String(PARALLEL), '-o', 'json');
  assert.equal(again.code, 0, again.stderr);
  // -o json streams one line per host, then the summary
  const summary = again.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { summary?: { unchanged: number; failed: number } }).find((l) => l.summary)?.summary;
  assert.deepEqual([summary?.unchanged, summary?.failed], [N, 0], again.stdout.slice(-2000));
  for (const h of harness.hosts) assert.deepEqual(h.commands, ['gather'], h.name);
  assert.deepEqual(harness.unrecognised, []);
});

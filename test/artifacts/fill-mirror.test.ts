import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { resolveKubernetesVersion } from '../../src/artifacts/resolve-kubernetes-version.ts';
import { binariesFor, mirrorUrl } from '../../src/render/release-binaries.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { exampleCluster, exampleText } from '../support/example-clusters.ts';

const VERSION = '1.36.3';
// the modern example names only the minor ("1.36"): the mirror's stable-1.36.txt resolves it
const binaries: BinarySpec[] = binariesFor(exampleCluster('digitalocean'), { kubernetesVersion: VERSION });
const artifactUrls = [...new Set(binaries.map((b) => b.url))];
const kubeletUrl = binaries.find((b) => b.name === 'kubelet')!.url;

let dir: string;
const savedCache = process.env['KUBEWRIGHT_CACHE_DIR'];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-fill-mirror-'));
});
after(async () => {
  if (savedCache === undefined) delete process.env['KUBEWRIGHT_CACHE_DIR'];
  else process.env['KUBEWRIGHT_CACHE_DIR'] = savedCache;
  await rm(dir, { recursive: true, force: true });
});

/** Writes the modern example with artifacts.mirror and pins set; returns its path. */
async function writeSpec(name: string, mirror: string, checksums: Record<string, string>): Promise<string> {
  const doc = parse(exampleText('digitalocean')) as Record<string, unknown>;
  doc['artifacts'] = { mirror, checksums };
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(doc));
  return file;
}

/** Every file under a directory, relative paths → mtimeMs. */
async function tree(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out.set(p.slice(root.length + 1), (await stat(p)).mtimeMs);
  }
  return out;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('artifacts fetch copies every artifact with its checksum file into <host>/<path>, and a second run rewrites nothing', async () => {
  const source = await buildArtifactMirror(join(dir, 'source'), binaries, { stable: { minor: '1.36', version: `v${VERSION}` } });
  const spec = await writeSpec('source', source.dir, source.pins);
  const out = join(dir, 'out');
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-a');

  const first = await runCli('artifacts', 'fetch', '-f', spec, '--to', out);
  assert.equal(first.code, 0, first.stderr);
  for (const url of artifactUrls) {
    const copy = await readFile(mirrorUrl(url, out));
    assert.deepEqual(copy, await readFile(mirrorUrl(url, source.dir)), `${url} copied byte for byte`);
    assert.match(first.stdout, new RegExp(`^fetched\\s+${url.replace(/[.]/g, '\\.')}$`, 'm'));
  }
  for (const b of binaries) {
    if (b.checksumUrl !== undefined) {
      assert.equal(await readFile(mirrorUrl(b.checksumUrl, out), 'utf8'), await readFile(mirrorUrl(b.checksumUrl, source.dir), 'utf8'), `${b.checksumUrl} as published`);
    } else {
      const generated = await readFile(`${mirrorUrl(b.url, out)}.sha256`, 'utf8');
      assert.equal(generated, `${source.pins[b.url]}  ${b.url.split('/').pop()}\n`, `${b.url} gets a generated .sha256 with its pin`);
    }
  }
  assert.equal(await readFile(join(out, 'dl.k8s.io', 'release', 'stable-1.36.txt'), 'utf8'), `v${VERSION}\n`);
  assert.ok(![...(await tree(out)).keys()].some((p) => p.endsWith('.tmp')), 'no temp files left');

  const before = await tree(out);
  const second = await runCli('artifacts', 'fetch', '-f', spec, '--to', out, '--output', 'json');
  assert.equal(second.code, 0, second.stderr);
  const report = JSON.parse(second.stdout) as { kubernetesVersion: string; files: { url: string; status: string }[] };
  assert.equal(report.kubernetesVersion, VERSION);
  assert.deepEqual(report.files.filter((f) => f.status !== 'unchanged'), [], 'everything unchanged');
  assert.deepEqual(new Set(report.files.map((f) => f.url)).size, report.files.length);
  assert.deepEqual(await tree(out), before, 'no file rewritten (same names and mtimes)');

  // the filled mirror serves a spec on its own: a fresh cache, every binary resolved and verified from it
  const copySpec = await writeSpec('copy', out, source.pins);
  const cluster = parseCluster(await readFile(copySpec, 'utf8'), copySpec);
  const store = new ArtifactStore({ mirror: out, pins: cluster.artifacts.checksums, cacheDir: join(dir, 'cache-b') });
  const version = await resolveKubernetesVersion(cluster, store);
  assert.equal(version, VERSION);
  const resolved = binariesFor(cluster, { kubernetesVersion: version });
  assert.deepEqual(resolved.map((b) => b.url), binaries.map((b) => b.url));
  for (const b of resolved) {
    const local = await store.binary(b);
    assert.equal(sha(await readFile(local.localPath)), local.sha256, `${b.name} verified from the filled mirror`);
  }
});

test('a text line per file says whether it was fetched or unchanged after one artifact changes', async () => {
  const source = await buildArtifactMirror(join(dir, 'source-2'), binaries, { stable: { minor: '1.36', version: `v${VERSION}` } });
  const spec = await writeSpec('source-2', source.dir, source.pins);
  const out = join(dir, 'out-2');
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-c');
  assert.equal((await runCli('artifacts', 'fetch', '-f', spec, '--to', out)).code, 0);
  // a stale copy in the target (e.g. an older download) is replaced
  await writeFile(mirrorUrl(kubeletUrl, out), 'stale');
  const again = await runCli('artifacts', 'fetch', '-f', spec, '--to', out);
  assert.equal(again.code, 0, again.stderr);
  const lines = again.stdout.split('\n').filter((l) => /^(fetched|unchanged) /.test(l));
  assert.deepEqual(lines.filter((l) => l.startsWith('fetched')), [`fetched   ${kubeletUrl}`]);
  assert.ok(lines.length > artifactUrls.length, 'artifacts and checksum files are listed');
  assert.deepEqual(await readFile(mirrorUrl(kubeletUrl, out)), await readFile(mirrorUrl(kubeletUrl, source.dir)));
});

test('a corrupted source artifact fails with exit 1 naming its URL and writes nothing', async () => {
  const source = await buildArtifactMirror(join(dir, 'source-bad'), binaries, { corrupt: [kubeletUrl], tag: 'bad', stable: { minor: '1.36', version: `v${VERSION}` } });
  const spec = await writeSpec('source-bad', source.dir, source.pins);
  const out = join(dir, 'out-bad');
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-bad');
  const res = await runCli('artifacts', 'fetch', '-f', spec, '--to', out);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /sha256 mismatch/);
  assert.ok(res.stderr.includes(kubeletUrl), res.stderr);
  assert.deepEqual([...(await tree(out)).keys()], [], 'nothing, partial or whole, in the target');
  assert.equal(await exists(mirrorUrl(kubeletUrl, out)), false);
});

test('bad input exits 2: a missing --to, an unknown arch, an unreadable spec', async () => {
  const spec = await writeSpec('bad-input', join(dir, 'nowhere'), {});
  assert.equal((await runCli('artifacts', 'fetch', '-f', spec)).code, 2);
  assert.equal((await runCli('artifacts', 'fetch', '-f', spec, '--to', join(dir, 'x'), '--arch', 'mips')).code, 2);
  const missing = await runCli('artifacts', 'fetch', '-f', join(dir, 'no-such.yaml'), '--to', join(dir, 'x'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no-such\.yaml/);
});

test('--from copies one mirror into another; a relative artifacts.mirror is read from the spec folder', async () => {
  const source = await buildArtifactMirror(join(dir, 'source-from'), binaries, { stable: { minor: '1.36', version: `v${VERSION}` } });
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-from');
  const elsewhere = await writeSpec('from', join(dir, 'nowhere'), source.pins);
  const viaFrom = await runCli('artifacts', 'fetch', '-f', elsewhere, '--to', join(dir, 'out-from'), '--from', source.dir);
  assert.equal(viaFrom.code, 0, viaFrom.stderr);
  // a fresh cache, so the relative mirror is really read
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-relative');
  const relative = await writeSpec('relative', './out-from', source.pins);
  const out = join(dir, 'out-relative');
  const res = await runCli('artifacts', 'fetch', '-f', relative, '--to', out);
  assert.equal(res.code, 0, res.stderr);
  for (const url of artifactUrls) assert.deepEqual(await readFile(mirrorUrl(url, out)), await readFile(mirrorUrl(url, source.dir)));
});

test('a pinned artifact whose source lacks the published checksum file gets a generated one', async () => {
  const source = await buildArtifactMirror(join(dir, 'source-pinned'), binaries, { stable: { minor: '1.36', version: `v${VERSION}` } });
  const kubeletChecksum = `${kubeletUrl}.sha256`;
  const digest = (await readFile(mirrorUrl(kubeletChecksum, source.dir), 'utf8')).trim();
  await rm(mirrorUrl(kubeletChecksum, source.dir));
  process.env['KUBEWRIGHT_CACHE_DIR'] = join(dir, 'cache-pinned');
  const unpinned = await runCli('artifacts', 'fetch', '-f', await writeSpec('unpinned', source.dir, source.pins), '--to', join(dir, 'out-unpinned'));
  assert.equal(unpinned.code, 1, 'without a pin the missing checksum file is an error');
  assert.ok(unpinned.stderr.includes('kubelet.sha256'), unpinned.stderr);
  const spec = await writeSpec('pinned', source.dir, { ...source.pins, [kubeletUrl]: digest });
  const out = join(dir, 'out-pinned');
  const res = await runCli('artifacts', 'fetch', '-f', spec, '--to', out);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(await readFile(mirrorUrl(kubeletChecksum, out), 'utf8'), `${digest}  kubelet\n`);
});

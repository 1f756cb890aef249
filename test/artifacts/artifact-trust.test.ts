// Download hardening and archive/lockfile trust, against a real HTTP server on loopback
// (test/support/http-mirror.ts) and real tar archives.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ArchiveMemberError, ArtifactFetchError, ArtifactTooLargeError, ChecksumMismatchError, LockConflictError } from '../../src/artifacts/artifact-errors.ts';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { fetchToFile } from '../../src/artifacts/fetch-source.ts';
import { ArtifactLock, emptyLockfile, lockfilePathFor, readLockfile } from '../../src/artifacts/lockfile.ts';
import { InputError } from '../../src/errors.ts';
import type { BinarySpec } from '../../src/render/types.ts';
import { startHttpMirror, type HttpMirror } from '../support/http-mirror.ts';

const run = promisify(execFile);
const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let http: HttpMirror;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-trust-'));
  http = await startHttpMirror(join(dir, 'served'));
});
after(async () => {
  await http?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(path: string, body: string | Buffer): Promise<void> {
  const file = join(dir, 'served', path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, body);
}

const fast = { idleTimeoutMs: 300, retries: 2, retryDelayMs: 10 };

test('a server that stalls is abandoned after the idle timeout and retried, then reported', async () => {
  http.handle = (path, res) => {
    if (path !== '/stall') return false;
    res.writeHead(200, { 'content-length': 100 });
    res.write('x'); // then nothing
    return true;
  };
  const started = Date.now();
  // 1 s of silence: long enough for each request to reach this process's server on a loaded machine
  const e = await fetchToFile(`${http.url}/stall`, join(dir, 'stall.out'), { ...fast, idleTimeoutMs: 1000 }).catch((err: unknown) => err);
  assert.ok(e instanceof ArtifactFetchError, String(e));
  assert.match(e.message, /timed out.*after 3 attempts/);
  const attempts = http.requests.filter((p) => p === '/stall').length;
  assert.ok(attempts >= 2 && attempts <= 3, `${attempts} requests reached the server`);
  assert.ok(Date.now() - started < 20_000);
});

test('HTTP 503 twice then 200 succeeds on the third attempt; a 404 is final at once', async () => {
  await serve('flaky', 'payload');
  http.handle = (path, res, n) => {
    if (path === '/flaky' && n <= 2) {
      res.writeHead(503).end();
      return true;
    }
    return false;
  };
  await fetchToFile(`${http.url}/flaky`, join(dir, 'flaky.out'), fast);
  assert.equal(await readFile(join(dir, 'flaky.out'), 'utf8'), 'payload');
  const e = await fetchToFile(`${http.url}/missing`, join(dir, 'missing.out'), fast).catch((err: unknown) => err);
  assert.ok(e instanceof ArtifactFetchError);
  assert.match(e.message, /HTTP 404/);
  assert.equal(http.requests.filter((p) => p === '/missing').length, 1);
});

test('a body over the size cap is refused without retrying, announced or not', async () => {
  await serve('big', Buffer.alloc(4096, 1));
  const e = await fetchToFile(`${http.url}/big`, join(dir, 'big.out'), { ...fast, maxBytes: 1000 }).catch((err: unknown) => err);
  assert.ok(e instanceof ArtifactTooLargeError, String(e));
  // chunked, no content-length: counted while streaming
  http.handle = (path, res) => {
    if (path !== '/chunked') return false;
    res.writeHead(200);
    for (let i = 0; i < 8; i++) res.write(Buffer.alloc(512, 2));
    res.end();
    return true;
  };
  const c = await fetchToFile(`${http.url}/chunked`, join(dir, 'chunked.out'), { ...fast, maxBytes: 1000 }).catch((err: unknown) => err);
  assert.ok(c instanceof ArtifactTooLargeError, String(c));
  assert.equal(http.requests.filter((p) => p === '/chunked').length, 1);
});

async function tgz(name: string, build: (staging: string) => Promise<string[]>): Promise<{ url: string; digest: string; path: string }> {
  const staging = await mkdtemp(join(dir, 'staging-'));
  const members = await build(staging);
  const path = join(dir, 'served', 'example.com', name);
  await mkdir(dirname(path), { recursive: true });
  await run('tar', ['-czf', path, '-C', staging, ...members]);
  return { url: `https://example.com/${name}`, digest: sha(await readFile(path)), path };
}

test('an archive member that is a symlink is refused, not followed to a file of this machine', async () => {
  const secret = join(dir, 'secret-of-this-machine');
  await writeFile(secret, 'not a binary\n');
  const a = await tgz('evil.tar.gz', async (s) => {
    await symlink(secret, join(s, 'flanneld'));
    return ['flanneld'];
  });
  const b: BinarySpec = { name: 'flanneld', url: a.url, archiveMember: 'flanneld', path: '/usr/local/bin/flanneld', mode: 0o755 };
  const store = new ArtifactStore({ mirror: http.url, pins: { [a.url]: a.digest }, cacheDir: join(dir, 'cache-evil') });
  const e = await store.binary(b).catch((err: unknown) => err);
  assert.ok(e instanceof ArchiveMemberError, String(e));
  assert.match(e.message, /archive member flanneld is a symbolic link, not a regular file/);
});

test('all members of an archive come from one extraction and are recorded in the lockfile; a cached member that changed is extracted again', async () => {
  const a = await tgz('bundle.tgz', async (s) => {
    await mkdir(join(s, 'docker'));
    for (const m of ['docker', 'dockerd']) await writeFile(join(s, 'docker', m), `#!/bin/sh\n# ${m}\n`);
    return ['docker'];
  });
  const specs: BinarySpec[] = ['docker', 'dockerd'].map((m) => ({ name: m, url: a.url, archiveMember: `docker/${m}`, path: `/usr/bin/${m}`, mode: 0o755 }));
  const lockPath = join(dir, 'bundle.lock');
  const lock = new ArtifactLock(lockPath, emptyLockfile(), { persist: true });
  const cacheDir = join(dir, 'cache-bundle');
  const store = new ArtifactStore({ mirror: http.url, pins: { [a.url]: a.digest }, cacheDir, lock });
  store.want(specs);
  const [d, dd] = await Promise.all(specs.map((b) => store.binary(b)));
  assert.equal(d!.sha256, sha('#!/bin/sh\n# docker\n'));
  assert.equal(dd!.sha256, sha('#!/bin/sh\n# dockerd\n'));
  const saved = await readLockfile(lockPath);
  assert.deepEqual(saved.artifacts[a.url], { sha256: a.digest, size: (await readFile(a.path)).length, members: { 'docker/docker': d!.sha256, 'docker/dockerd': dd!.sha256 } });
  // a fresh store over the same cache knows the digests without the archive; a tampered cached member is re-extracted
  await writeFile(dd!.localPath, 'tampered');
  const again = new ArtifactStore({ mirror: join(dir, 'nowhere'), pins: {}, cacheDir, lock: await ArtifactLock.load(lockPath, { persist: false }) });
  assert.equal(await again.knownInstalledDigest(specs[1]!), dd!.sha256);
  assert.equal((await again.binary(specs[1]!)).sha256, dd!.sha256);
  assert.equal(await readFile(dd!.localPath, 'utf8'), '#!/bin/sh\n# dockerd\n');
});

test('a cached artifact whose bytes changed is downloaded again, not installed', async () => {
  await serve('example.com/plain', 'plain binary\n');
  const b: BinarySpec = { name: 'plain', url: 'https://example.com/plain', path: '/usr/bin/plain', mode: 0o755 };
  const cacheDir = join(dir, 'cache-plain');
  const store = new ArtifactStore({ mirror: http.url, pins: { [b.url]: sha('plain binary\n') }, cacheDir });
  const first = await store.binary(b);
  await writeFile(first.localPath, 'corrupted on disk\n');
  const before = http.requests.length;
  const fresh = new ArtifactStore({ mirror: http.url, pins: { [b.url]: sha('plain binary\n') }, cacheDir });
  const second = await fresh.binary(b);
  assert.equal(await readFile(second.localPath, 'utf8'), 'plain binary\n');
  assert.equal(http.requests.length, before + 1, 'downloaded again');
});

test('a pin that disagrees with the lockfile is refused (exit 2) with the way to change it on purpose', async () => {
  const url = 'https://example.com/plain';
  const lock = new ArtifactLock(join(dir, 'x.lock'), { ...emptyLockfile(), artifacts: { [url]: { sha256: 'a'.repeat(64), size: 1 } } }, { persist: false });
  const store = new ArtifactStore({ mirror: http.url, pins: { [url]: 'b'.repeat(64) }, cacheDir: join(dir, 'cache-conflict'), lock });
  const e = await store.binary({ name: 'plain', url, path: '/usr/bin/plain', mode: 0o755 }).catch((err: unknown) => err);
  assert.ok(e instanceof LockConflictError);
  assert.equal(e.exitCode, 2);
  assert.match(e.describe(), /artifacts lock --update/);
  // and a locked digest is what a download is checked against
  const locked = new ArtifactStore({ mirror: http.url, pins: {}, cacheDir: join(dir, 'cache-locked'), lock });
  const m = await locked.binary({ name: 'plain', url, path: '/usr/bin/plain', mode: 0o755 }).catch((err: unknown) => err);
  assert.ok(m instanceof ArtifactTooLargeError || m instanceof ChecksumMismatchError, String(m));
  assert.match((m as Error).message, /x\.lock/);
});

test('a corrupt lockfile is bad input naming the file and how to recover; the lockfile sits beside its spec', async () => {
  const path = join(dir, 'bad.lock');
  await writeFile(path, '{"lockfileVersion": 1, "artifacts": {"http://plain.example/x": {"sha256": "zz", "size": 1}}}');
  const e = await readLockfile(path).catch((err: unknown) => err);
  assert.ok(e instanceof InputError);
  assert.match(e.describe(), /bad\.lock: artifacts\.http:\/\/plain\.example\/x: .*restore it from version control/);
  await writeFile(path, '{not json');
  assert.match(String(await readLockfile(path).catch((err: unknown) => (err as Error).message)), /bad\.lock: not valid JSON/);
  assert.equal(lockfilePathFor('/srv/clusters/prod.yaml'), '/srv/clusters/prod.lock');
});

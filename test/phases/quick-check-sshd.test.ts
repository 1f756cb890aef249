// The stat-only no-op against a real sshd host (fake root; systemctl there is the TEST DOUBLE
// from test/support/sshd-hosts.ts): the on-host manifest apply records, the quick check that
// trusts it while a file's stat is unchanged, and what breaks that trust. Real GNU stat and
// touch, real sha256 (node's crypto) as the judge of what the manifest claims.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { SshExecutor } from '../../src/exec/ssh-executor.ts';
import { MANIFEST_PATH, parseManifest, parseStatLine, serializeManifest, STAT_FORMAT, statPrefix } from '../../src/phases/host-manifest.ts';
import { runHosts, type HostOutcome } from '../../src/run/run-hosts.ts';
import { buildArtifactMirror } from '../support/artifact-mirror.ts';
import { startSshdHosts, type SshdHosts } from '../support/sshd-hosts.ts';
import { CountingExecutor, fixtureBinaries, fixtureHost } from './fixture-host.ts';

const run = promisify(execFile);
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('what `stat -c` prints for a file is, byte for byte, the start of its manifest line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kw-stat-'));
  try {
    const f = join(dir, 'a.conf');
    await writeFile(f, 'x=1\n', { mode: 0o640 });
    const { stdout } = await run('stat', ['-c', STAT_FORMAT, '--', f], { env: { ...process.env, LC_ALL: 'C' } });
    const line = stdout.trimEnd();
    const parsed = parseStatLine(line);
    assert.ok(parsed, line);
    assert.equal(parsed.path, f);
    assert.equal(parsed.stat.mode, 0o640);
    assert.equal(parsed.stat.size, 4);
    assert.match(parsed.stat.mtime, /^\d+\.\d{9}$/);
    assert.equal(statPrefix(f, parsed.stat), line);
    const text = serializeManifest({ version: 1, files: [{ path: f, kind: 'file', sha256: sha256('x=1\n'), stat: parsed.stat }], units: ['kubelet.service'], dirs: [] });
    assert.ok(text.split('\n').some((l) => l.startsWith(line)), text);
    assert.deepEqual(parseManifest(text).files[0], { path: f, kind: 'file', sha256: sha256('x=1\n'), stat: parsed.stat });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a manifest that is not valid is refused with the field that is wrong', () => {
  assert.throws(() => parseManifest('{"version":1,"units":[],"dirs":[],"files":[{"path":"etc/x","kind":"file"}]}'), /files\.0\.path/);
  assert.throws(() => parseManifest('{"version":2}'), /version/);
  assert.throws(() => parseManifest('{'), /not JSON/);
});

describe('the stat-only no-op on a real sshd host', () => {
  let lab: SshdHosts;
  let store: ArtifactStore;
  let root = '';
  let counter: CountingExecutor | undefined;

  before(async () => {
    lab = await startSshdHosts(1, 'qc');
    root = lab.hosts[0]!.root;
    const mirror = await buildArtifactMirror(join(lab.dir, 'mirror'), fixtureBinaries());
    store = new ArtifactStore({ mirror: mirror.dir, pins: mirror.pins, cacheDir: join(lab.dir, 'cache') });
  });
  after(async () => {
    await lab?.stop();
  });

  async function apply(mode: 'plan' | 'apply' = 'apply', checksum = false): Promise<HostOutcome> {
    const h = lab.hosts[0]!;
    const [o] = await runHosts([{ host: { name: h.name, address: h.address, port: h.port, user: 'root' }, desired: fixtureHost(h.name) }], {
      mode,
      parallel: 1,
      binaries: store,
      waitActiveTimeoutSec: 5,
      checksum,
      connect: async (host) => {
        counter = new CountingExecutor(await SshExecutor.connect({ name: host.name, address: host.address!, port: host.port, user: 'root' }, { privateKey: lab.privateKey, knownHostsPath: lab.knownHostsPath }));
        return counter;
      },
    });
    assert.notEqual(o!.status, 'failed', String(o!.error));
    return o!;
  }
  const hashed = (o: HostOutcome): string[] => [...o.plan!.facts.files].filter(([, f]) => f.hashed).map(([p]) => p).sort();
  const summaries = (o: HostOutcome): string[] => o.plan!.actions.map((a) => a.summary);
  const manifestFile = (): string => join(root, MANIFEST_PATH);
  const statOf = async (p: string): Promise<string> => (await run('stat', ['-c', '%s %.9Y %.9Z', join(root, p)])).stdout.trim();

  test('apply records every managed file and binary with the sha256 it has, its stat, the units and the directories it created', async () => {
    await apply();
    const m = parseManifest(await readFile(manifestFile(), 'utf8'));
    const desired = fixtureHost(lab.hosts[0]!.name);
    const paths = [...desired.files.map((f) => f.path), ...desired.binaries.map((b) => b.path)].sort();
    assert.deepEqual(m.files.map((f) => f.path), paths);
    for (const f of m.files) {
      assert.equal(f.sha256, sha256(await readFile(join(root, f.path))), f.path);
      assert.equal(`${f.stat!.size} ${f.stat!.mtime} ${f.stat!.ctime}`, await statOf(f.path), f.path);
    }
    assert.deepEqual(m.files.filter((f) => f.kind === 'binary').map((f) => f.path), desired.binaries.map((b) => b.path).sort());
    assert.deepEqual(m.units, ['flanneld.service', 'kube-proxy.service', 'kubelet.service']);
    // the fresh fake root has /var but not /var/lib: every directory on the way was created
    assert.ok(m.dirs.includes('/var/lib/kubelet') && m.dirs.includes('/var/lib') && !m.dirs.includes('/var'), m.dirs.join(' '));
    assert.equal(((await run('stat', ['-c', '%a', manifestFile()])).stdout.trim()), '600');
  });

  test('a no-op hashes no file, writes nothing and costs one command', async () => {
    const before = await readFile(manifestFile(), 'utf8');
    const o = await apply();
    assert.equal(o.status, 'unchanged', summaries(o).join('; '));
    assert.deepEqual(hashed(o), []);
    assert.equal(counter!.commands.length, 1);
    assert.equal(await readFile(manifestFile(), 'utf8'), before);
    assert.match(o.plan!.facts.hasher ?? '', /^(openssl|sha256sum)$/);
  });

  test('an edit behind kubewright\'s back that keeps size and mtime is caught by its ctime, and only that file is hashed', async () => {
    const p = '/etc/flannel/options.env';
    const file = join(root, p);
    const [size, mtime, ctime] = (await statOf(p)).split(' ');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('eth1', 'eth9'));
    await run('touch', ['-m', '-d', `@${mtime}`, file]);
    const [size2, mtime2, ctime2] = (await statOf(p)).split(' ');
    assert.equal(size2, size);
    assert.equal(mtime2, mtime, 'mtime restored to the nanosecond');
    assert.notEqual(ctime2, ctime);
    const o = await apply('plan');
    assert.deepEqual(hashed(o), [p]);
    assert.deepEqual(summaries(o).slice(0, 2), [`write ${p} (content changed)`, 'restart flanneld.service (/etc/flannel/options.env content changed)']);
    const applied = await apply();
    assert.equal(applied.status, 'changed');
    assert.equal(await readFile(file, 'utf8'), text);
    assert.deepEqual(hashed(await apply()), [], 'the manifest was brought up to date');
  });

  test('a file touched without a change is hashed once, the manifest refreshed, and then trusted again', async () => {
    const p = '/var/lib/kubelet/config.yaml';
    await run('touch', [join(root, p)]);
    const o = await apply();
    assert.deepEqual(hashed(o), [p]);
    assert.deepEqual(summaries(o), ['record /var/lib/kubewright/manifest.json (1 file(s) with a new stat but the same content)']);
    const again = await apply();
    assert.equal(again.status, 'unchanged');
    assert.deepEqual(hashed(again), []);
  });

  test('--checksum hashes every file and catches an edit the manifest vouches for', async () => {
    const p = '/etc/flannel/options.env';
    const file = join(root, p);
    await writeFile(file, (await readFile(file, 'utf8')).replace('eth1', 'eth7'));
    // a manifest that claims the edited file is still the one kubewright wrote
    const m = parseManifest(await readFile(manifestFile(), 'utf8'));
    const now = parseStatLine((await run('stat', ['-c', STAT_FORMAT, file], { env: { ...process.env, LC_ALL: 'C' } })).stdout.trimEnd())!;
    await writeFile(manifestFile(), serializeManifest({ ...m, files: m.files.map((f) => (f.path === p ? { ...f, stat: now.stat } : f)) }));
    const trusting = await apply('plan');
    assert.equal(trusting.plan!.actions.length, 0, 'without --checksum the manifest is trusted');
    const checked = await apply('plan', true);
    assert.equal(hashed(checked).length, 9, 'every file and binary hashed');
    assert.deepEqual(summaries(checked).slice(0, 1), [`write ${p} (content changed)`]);
    await apply('apply', true);
    assert.equal((await apply('plan', true)).plan!.actions.length, 0);
  });

  test('an unreadable manifest is not trusted: every file is hashed and the manifest rewritten', async () => {
    await writeFile(manifestFile(), '{"version":1,"units":');
    const o = await apply();
    assert.equal(hashed(o).length, 9);
    assert.deepEqual(summaries(o), ['record /var/lib/kubewright/manifest.json (the one there is unreadable: not JSON (Unexpected end of JSON input))']);
    assert.equal((await apply()).status, 'unchanged');
  });
});

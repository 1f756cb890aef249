// What a unit reads, derived from rendered texts: followed through the files they name, limited to
// managed paths, and never through a path no text names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveUnitReads } from '../../src/render/unit-reads.ts';
import type { BinarySpec, RenderedFile } from '../../src/render/types.ts';

const f = (path: string, contents: string): RenderedFile => ({ path, mode: 0o644, contents });
const bin = (path: string): BinarySpec => ({ name: path.slice(path.lastIndexOf('/') + 1), url: `https://example.test${path}`, path, mode: 0o755 });

const files = [
  f('/etc/systemd/system/a.service', '[Service]\nEnvironmentFile=-/etc/a/env\nExecStart=/usr/bin/a --kubeconfig=/etc/a/kubeconfig --state /run/a/state\n'),
  f('/etc/a/kubeconfig', 'users:\n- user:\n    client-certificate: /etc/pki/a.pem\n    client-key: /etc/pki/a-key.pem\n'),
  f('/etc/systemd/system/b.service', '[Service]\nExecStart=/usr/bin/b -cert=/etc/pki/b.pem\n'),
  f('/etc/b/unused.conf', 'names /etc/pki/a.pem but no unit reads this file\n'),
];
const binaries = [bin('/usr/bin/a'), bin('/usr/bin/b')];

test('a unit reads what its unit file names and, through them, what those files name', () => {
  const [a] = deriveUnitReads([{ name: 'a.service', roots: ['/etc/systemd/system/a.service'] }], files, binaries, ['/etc/pki/a.pem', '/etc/pki/a-key.pem']);
  assert.deepEqual(a, { name: 'a.service', dependsOn: ['/etc/systemd/system/a.service', '/usr/bin/a', '/etc/a/kubeconfig', '/etc/pki/a.pem', '/etc/pki/a-key.pem'] });
});

test('paths that are not managed (runtime state, an optional env file) are not restart triggers', () => {
  const [a] = deriveUnitReads([{ name: 'a.service', roots: ['/etc/systemd/system/a.service'] }], files, binaries);
  assert.ok(!a!.dependsOn.includes('/etc/a/env'));
  assert.ok(!a!.dependsOn.includes('/run/a/state'));
  assert.ok(!a!.dependsOn.includes('/etc/pki/a.pem'), 'a certificate neither rendered nor placed is not managed');
});

test("a file that names a certificate restarts nobody unless a unit's texts lead to it", () => {
  const units = deriveUnitReads(
    [{ name: 'a.service', roots: ['/etc/systemd/system/a.service'] }, { name: 'b.service', roots: ['/etc/systemd/system/b.service'] }],
    files,
    binaries,
    ['/etc/pki/a.pem', '/etc/pki/a-key.pem', '/etc/pki/b.pem'],
  );
  assert.deepEqual(units.map((u) => [u.name, u.dependsOn.filter((p) => p.startsWith('/etc/pki/'))]), [['a.service', ['/etc/pki/a.pem', '/etc/pki/a-key.pem']], ['b.service', ['/etc/pki/b.pem']]]);
});

test('reads no text names are declared, and a cycle between texts ends', () => {
  const looped = [f('/etc/x.conf', 'include /etc/y.conf\n'), f('/etc/y.conf', 'include /etc/x.conf\n')];
  const [x] = deriveUnitReads([{ name: 'x.service', roots: ['/etc/x.conf'], unnamedReads: ['/usr/bin/helper'] }], looped, [bin('/usr/bin/helper')]);
  assert.deepEqual(x!.dependsOn, ['/etc/x.conf', '/usr/bin/helper', '/etc/y.conf']);
});

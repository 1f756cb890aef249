// cfssl CSR JSON and ca-config.json read as cfssl reads them; hosts sorted into SANs as cfssl sorts them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseCsrRequest, sansOf, subjectOf } from '../../src/pki/csr-request.ts';
import { formatDuration, parseDuration } from '../../src/pki/duration.ts';
import { parseCaConfig, profileNamed, usagesOf } from '../../src/pki/signing-profile.ts';

test("the post's kubelet.json parses to its CN, wildcard host, ECDSA 256 key and names", () => {
  const csr = parseCsrRequest('{"CN":"kubelet","hosts":["*.example.com"],"key":{"algo":"ecdsa","size":256},"names":[{"C":"DE","L":"NW","ST":"Wesel"}]}', 'kubelet.json');
  assert.deepEqual(csr, { CN: 'kubelet', hosts: ['*.example.com'], key: { algo: 'ecdsa', size: 256 }, names: [{ C: 'DE', ST: 'Wesel', L: 'NW', O: undefined, OU: undefined }] });
  assert.deepEqual(subjectOf(csr), [{ C: ['DE'] }, { ST: ['Wesel'] }, { L: ['NW'] }, { CN: ['kubelet'] }]);
});

test('a CSR JSON without key gets no key spec (cfssl then uses ECDSA P-256) and extra cfssl fields are ignored', () => {
  const csr = parseCsrRequest('{"CN":"etcd","hosts":["127.0.0.1"],"ca":{"expiry":"87600h"}}', 'etcd.json');
  assert.equal(csr.key, undefined);
});

test('hosts become SANs in Go order: DNS, email, IP, URI; duplicates dropped', () => {
  assert.deepEqual(sansOf(['10.0.0.1', 'node-1', 'spiffe://cluster/ns/a', 'ops@example.com', '::1', 'node-1']), [
    { type: 'dns', value: 'node-1' },
    { type: 'email', value: 'ops@example.com' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: '::1' },
    { type: 'url', value: 'spiffe://cluster/ns/a' },
  ]);
});

test('CSR JSON problems name the file and the field', () => {
  assert.throws(() => parseCsrRequest('{"CN":"x","key":{"algo":"ed25519","size":256}}', 'x.json'), /x\.json: key: unknown key algo "ed25519"/);
  assert.throws(() => parseCsrRequest('{"CN":"x","key":{"algo":"ecdsa","size":255}}', 'x.json'), /x\.json: key: ecdsa size must be 256, 384 or 521/);
  assert.throws(() => parseCsrRequest('{"CN":"x","hosts":"a.example"}', 'x.json'), /x\.json: hosts: /);
  assert.throws(() => parseCsrRequest('[1', 'x.json'), /x\.json: not valid JSON/);
  assert.throws(() => parseCsrRequest('{}', 'x.json'), /x\.json: CN: must not be empty/);
});

test('durations read as cfssl and Go write them, plus days', () => {
  assert.equal(parseDuration('8760h'), 8760 * 3_600_000);
  assert.equal(parseDuration('30d'), 30 * 86_400_000);
  assert.equal(parseDuration('1h30m'), 90 * 60_000);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration('0h'), undefined);
  assert.equal(parseDuration('-1h'), undefined);
});

test('formatting a whole-hour duration and parsing it back gives the same duration', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (hours) => parseDuration(formatDuration(hours * 3_600_000)) === hours * 3_600_000),
  );
});

test('ca-config.json profiles map cfssl usage names to key usages and EKUs; unknown profiles fall back to default', () => {
  const cfg = parseCaConfig(
    JSON.stringify({ signing: { default: { expiry: '168h' }, profiles: { server: { usages: ['signing', 'key encipherment', 'server auth'], expiry: '43800h' }, client: { usages: ['signing', 'client auth'] } } } }),
    'ca-config.json',
  );
  const server = profileNamed(cfg, 'server');
  assert.equal(server.expiryMs, 43_800 * 3_600_000);
  assert.deepEqual(usagesOf(server), { keyUsage: 1 | 4, extKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
  assert.equal(profileNamed(cfg, 'client').expiryMs, 168 * 3_600_000, 'a profile without expiry inherits the default');
  assert.equal(profileNamed(cfg, 'nope').expiryMs, 168 * 3_600_000);
  assert.throws(() => parseCaConfig('{"signing":{"default":{"expiry":"forever"}}}', 'c.json'), /c\.json: signing\.default\.expiry: not a duration/);
  assert.throws(() => parseCaConfig('{}', 'c.json'), /c\.json: signing: is required/);
});

// The rendered etcd-lookup files: golden text, a unit systemd accepts, and the decisions that
// flanneld relies on (oneshot + RemainAfterExit, the members file path, restart triggers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  digitaloceanTokenFile,
  DIGITALOCEAN_TOKEN_PATH,
  ETCD_LOOKUP_SCRIPT_PATH,
  ETCD_LOOKUP_UNIT_PATH,
  renderEtcdLookup,
} from '../../src/render/etcd-lookup.ts';
import { InputError, SpecError } from '../../src/errors.ts';
import { assertGolden, filesText } from '../support/golden.ts';
import { verifyUnits } from '../support/systemd-verify.ts';
import { testCluster } from './cluster-spec.ts';

const tagged = testCluster({ profile: 'seed', tag: 'k8s-etcd' });
const staticOnly = testCluster({ profile: 'modern', endpoints: ['https://10.0.0.6:2379/', 'https://10.0.0.5:2379'] });

test('the rendered script and unit match the golden files (DigitalOcean tag)', () => {
  assertGolden('etcd-lookup', 'digitalocean-tag', filesText(renderEtcdLookup(tagged).files));
});

test('the rendered script and unit match the golden files (static endpoints)', () => {
  assertGolden('etcd-lookup', 'static-endpoints', filesText(renderEtcdLookup(staticOnly).files));
});

test('rendering is deterministic', () => {
  assert.deepEqual(renderEtcdLookup(tagged), renderEtcdLookup(testCluster({ profile: 'seed', tag: 'k8s-etcd' })));
});

test('the unit is a oneshot that stays active, so flanneld can Require it', () => {
  const unit = renderEtcdLookup(tagged).files.find((f) => f.path === ETCD_LOOKUP_UNIT_PATH)?.contents ?? '';
  assert.match(unit, /^Type=oneshot$/m);
  assert.match(unit, /^RemainAfterExit=yes$/m);
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/etcd-lookup$/m);
  assert.match(unit, /^Environment=DIGITALOCEAN_API_URL=https:\/\/api\.digitalocean\.com$/m);
  assert.doesNotMatch(unit, /^Restart=/m, 'systemd < 244 refuses Restart= on oneshot units');
});

test('systemd accepts the unit with its script in place', async () => {
  for (const cluster of [tagged, staticOnly]) {
    const r = renderEtcdLookup(cluster);
    const v = await verifyUnits(r.files, [r.unit.name]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stderr, '');
  }
});

test('the unit restarts when its unit, the script it runs or the token the script reads change (derived from their texts)', () => {
  assert.deepEqual(renderEtcdLookup(tagged).unit.dependsOn, [ETCD_LOOKUP_UNIT_PATH, ETCD_LOOKUP_SCRIPT_PATH, DIGITALOCEAN_TOKEN_PATH]);
  // the script names the token path in both cases; only a tag makes it a managed file
  assert.deepEqual(renderEtcdLookup(staticOnly).unit.dependsOn, [ETCD_LOOKUP_UNIT_PATH, ETCD_LOOKUP_SCRIPT_PATH]);
});

test('the token file is secret and 0600', () => {
  const f = digitaloceanTokenFile(' dop_v1_abc \n');
  assert.deepEqual(f, { path: DIGITALOCEAN_TOKEN_PATH, mode: 0o600, contents: 'dop_v1_abc\n', secret: true });
});

test('a tag DigitalOcean would refuse is a spec error naming the field', () => {
  // the spec refuses it at validation; the renderer refuses it too for clusters built in code
  assert.throws(
    () => testCluster({ profile: 'modern', tag: "etcd'; rm -rf /" }),
    (e: unknown) => e instanceof SpecError && e.issues.some((i) => i.path === 'etcd.discovery.digitaloceanTag'),
  );
  const valid = testCluster({ profile: 'modern', tag: 'k8s-etcd' });
  const cluster = { ...valid, etcd: { ...valid.etcd, discovery: { digitaloceanTag: "etcd'; rm -rf /" } } };
  assert.throws(() => renderEtcdLookup(cluster), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /^etcd\.discovery\.digitaloceanTag: must match/);
    return true;
  });
});

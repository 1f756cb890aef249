// Property tests (fast-check) for the diff engine: the phases' plans, computed from desired
// state and gathered facts without any host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Action, PlanContext } from '../../src/phases/phase.ts';
import type { FileFact, HostFacts, UnitFact } from '../../src/phases/host-facts.ts';
import { applyPhases } from '../../src/phases/manager.ts';
import { isUnitFile, unitName } from '../../src/render/unit-file.ts';
import { sha256Text } from '../../src/phases/write-files.ts';
import type { RenderedHost } from '../../src/render/types.ts';

const fileArb = fc.record({
  name: fc.constantFrom('a.conf', 'b.yaml', 'c.service', 'd.pem', 'e.env'),
  dir: fc.constantFrom('/etc/kw', '/etc/systemd/system', '/var/lib/kw'),
  contents: fc.string({ maxLength: 40 }),
  mode: fc.constantFrom(0o644, 0o600, 0o755),
});

const hostArb = fc
  .tuple(fc.uniqueArray(fileArb, { selector: (f) => `${f.dir}/${f.name}`, maxLength: 8 }), fc.integer({ min: 0, max: 4 }))
  .map(([files, unitCount]): RenderedHost => {
    const rendered = files.map((f) => ({ path: `${f.dir}/${f.name}`, mode: f.mode, contents: f.contents }));
    const units = Array.from({ length: unitCount }, (_, i) => ({ name: `u${i}.service`, dependsOn: rendered.filter((_, j) => j % (i + 1) === 0).map((f) => f.path) }));
    return { name: 'h', files: rendered, units, binaries: [] };
  });

/** observed state: per file kept / changed / missing / mode changed; per unit active or not */
const worldArb = (d: RenderedHost) =>
  fc.record({
    files: fc.array(fc.constantFrom('same', 'changed', 'missing', 'mode'), { minLength: d.files.length, maxLength: d.files.length }),
    units: fc.array(fc.constantFrom('active', 'inactive', 'failed'), { minLength: d.units.length, maxLength: d.units.length }),
  });

function factsFor(d: RenderedHost, w: { files: string[]; units: string[] }): HostFacts {
  const files = new Map<string, FileFact>();
  d.files.forEach((f, i) => {
    const s = w.files[i];
    if (s === 'missing') return;
    files.set(f.path, { sha256: s === 'changed' ? sha256Text(`${f.contents}x`) : sha256Text(f.contents), mode: s === 'mode' ? 0o640 : f.mode });
  });
  const units = new Map<string, UnitFact>();
  d.units.forEach((u, i) => units.set(u.name, { activeState: w.units[i]!, invocationId: 'id', activeEnterTimestamp: '', unitFileState: 'enabled', conditionResult: 'yes' }));
  return { os: 'debian 12', arch: 'x86_64', systemd: 'systemd 252', freeDiskKb: 1, files, missingDirs: new Set(), tempFiles: [], units };
}

async function plan(d: RenderedHost, facts: HostFacts): Promise<Action[]> {
  const ctx: PlanContext = {
    host: 'h', desired: d, facts, changed: new Map(), waitActiveTimeoutSec: 1, waitActiveSettleSec: 0,
    installedDigest: async () => undefined,
    localBinary: async () => { throw new Error('no binaries here'); },
  };
  const actions: Action[] = [];
  for (const p of applyPhases) actions.push(...(await p.plan(ctx)));
  return actions;
}

test('a host that already matches the desired state gets an empty plan', async () => {
  await fc.assert(
    fc.asyncProperty(hostArb, async (d) => {
      const w = { files: d.files.map(() => 'same'), units: d.units.map(() => 'active') };
      assert.deepEqual(await plan(d, factsFor(d, w)), []);
    }),
    { seed: 5, numRuns: 200 },
  );
});

test('exactly the differing files are written, and only units that depend on them or are down are (re)started, in order', async () => {
  await fc.assert(
    fc.asyncProperty(hostArb.chain((d) => fc.tuple(fc.constant(d), worldArb(d))), async ([d, w]) => {
      const actions = await plan(d, factsFor(d, w));
      const written = actions.filter((a) => a.kind === 'write-file').map((a) => a.change!.path);
      const differing = d.files.filter((_, i) => w.files[i] !== 'same').map((f) => f.path);
      assert.deepEqual(written, differing);
      const restarted = actions.filter((a) => a.kind === 'restart' || a.kind === 'start').map((a) => a.unit);
      const expected = d.units.filter((u, i) => w.units[i] !== 'active' || u.dependsOn.some((p) => differing.includes(p))).map((u) => u.name);
      assert.deepEqual(restarted, expected);
      const reload = actions.filter((a) => a.kind === 'daemon-reload').length;
      assert.equal(reload, differing.some((p) => p.startsWith('/etc/systemd/system/') && p.endsWith('.service')) ? 1 : 0);
      // daemon-reload comes after every file write and before every (re)start
      const idx = (k: Action['kind']): number[] => actions.flatMap((a, i) => (a.kind === k ? [i] : []));
      for (const r of idx('daemon-reload')) {
        assert.ok(idx('write-file').every((i) => i < r));
        assert.ok([...idx('restart'), ...idx('start')].every((i) => i > r));
      }
    }),
    { seed: 7, numRuns: 300 },
  );
});

test('unit files and drop-ins need a daemon-reload, other files under systemd dirs do not', () => {
  assert.equal(isUnitFile('/etc/systemd/system/kubelet.service'), true);
  assert.equal(isUnitFile('/etc/systemd/system/kubelet.service.d/10-kubewright.conf'), true);
  assert.equal(isUnitFile('/etc/systemd/system/a.conf'), false);
  assert.equal(isUnitFile('/etc/flannel/options.env'), false);
  assert.equal(unitName('kubelet'), 'kubelet.service');
  assert.equal(unitName('containerd.service'), 'containerd.service');
});

// Rendering is a pure function of the spec: twice the same input gives byte-identical output,
// in memory (both profiles, via renderCluster) and on disk (the CLI's render, into two folders).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { renderCluster } from '../../src/render/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { exampleInput, type ExampleName } from '../support/example-clusters.ts';
import { renderedClusterText } from '../support/golden.ts';

const examples: ExampleName[] = ['seed', 'digitalocean'];
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

for (const name of examples) {
  test(`rendering the ${name} example twice gives byte-identical trees`, () => {
    // two separate parses, so no object is shared between the runs
    const a = renderCluster(exampleInput(name));
    const b = renderCluster(exampleInput(name));
    assert.ok(a.hosts.size > 0 && [...a.hosts.values()].every((h) => h.files.length > 0), `${name}: every host has files`);
    // a Map serializes to {}: compare the hosts as entries
    const json = (r: typeof a): string => JSON.stringify({ ...r, hosts: [...r.hosts] });
    assert.equal(json(a), json(b));
    assert.equal(renderedClusterText(a), renderedClusterText(b));
  });

  test(`the ${name} render keys every host by its name, in the order of the input hosts`, () => {
    const input = exampleInput(name);
    const rendered = renderCluster(input);
    assert.deepEqual([...rendered.hosts.keys()], input.hosts.map((h) => h.name));
    for (const [key, host] of rendered.hosts) assert.equal(host.name, key);
  });

  test(`the ${name} render carries no timestamp, random token or absolute temp path`, () => {
    const text = renderedClusterText(renderCluster(exampleInput(name)));
    const year = String(new Date().getUTCFullYear());
    assert.ok(!text.includes(`${year}-`), 'no ISO date of this year');
    assert.doesNotMatch(text, /\/tmp\/|[0-9a-f]{32}/);
  });
}

/** Every file under `root`: relative path → mode + bytes (base64). */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), `${((await stat(p)).mode & 0o7777).toString(8)} ${(await readFile(p)).toString('base64')}`);
    }
  };
  await walk(root);
  return out;
}

for (const name of examples) {
  test(`kubewright render of the ${name} example into two folders writes identical bytes and modes`, async () => {
    const base = await mkdtemp(join(tmpdir(), 'kw-determinism-'));
    dirs.push(base);
    const spec = fileURLToPath(new URL(`../../examples/${name}.yaml`, import.meta.url));
    const one = await runCli('render', '-f', spec, '--out', join(base, 'one'));
    const two = await runCli('render', '-f', spec, '--out', join(base, 'two'));
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const a = await snapshot(join(base, 'one'));
    const b = await snapshot(join(base, 'two'));
    assert.ok(a.size > 3, `${name}: files were written (${a.size})`);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [p, content] of a) assert.equal(b.get(p), content, `${p} differs between the two renders`);
  });
}

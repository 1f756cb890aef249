// Golden files: test/golden/<suite>-<case>.golden. `UPDATE_GOLDEN=1 npm test` (or one test file)
// rewrites them from the current output; otherwise the output must match byte for byte.
// `.ci/run` refuses to run with UPDATE_GOLDEN set, so CI always compares.
// A multi-file render goes into one golden, each file under a `==> path (mode) <==` header.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RenderedCluster, RenderedFile, RenderedHost } from '../../src/render/types.ts';

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

export function goldenPath(suite: string, caseName: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(suite) || !/^[a-z0-9][a-z0-9.-]*$/.test(caseName)) {
    throw new Error(`golden: suite and case must be lowercase [a-z0-9.-] (got ${suite}/${caseName})`);
  }
  return join(GOLDEN_DIR, `${suite}-${caseName}.golden`);
}

export function updatingGolden(): boolean {
  const v = process.env['UPDATE_GOLDEN'];
  return v !== undefined && v !== '' && v !== '0';
}

/** Compares `actual` with the golden file, or rewrites it when UPDATE_GOLDEN=1. */
export function assertGolden(suite: string, caseName: string, actual: string): void {
  const file = goldenPath(suite, caseName);
  if (updatingGolden()) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(file, 'utf8');
  } catch {
    assert.fail(`golden file ${file} is missing — run the test with UPDATE_GOLDEN=1 to create it, then review and commit it`);
  }
  if (actual === expected) return;
  // assert.equal's own diff of two long texts can drop the message (Node 20 prints only "same
  // structure"), so the first differing line is named here
  const a = actual.split('\n');
  const e = expected.split('\n');
  let line = 0;
  while (line < a.length && a[line] === e[line]) line++;
  assert.fail(
    `output differs from ${file} at line ${line + 1} — if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff\n` +
      `  expected: ${JSON.stringify(e[line] ?? '<end of file>')}\n  actual:   ${JSON.stringify(a[line] ?? '<end of output>')}`,
  );
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Files as one text: `==> path (0644) <==` (+ ` secret`) then the contents, in the given order. */
export function filesText(files: readonly RenderedFile[], prefix = ''): string {
  return files
    .map((f) => {
      const body = f.contents.endsWith('\n') || f.contents === '' ? f.contents : `${f.contents}\n\\ no newline at end of file\n`;
      return `==> ${prefix}${f.path} (${octal(f.mode)})${f.secret ? ' secret' : ''} <==\n${body}`;
    })
    .join('\n');
}

/** A host's units (start order, restart triggers) and binaries as text. */
export function hostPlanText(host: RenderedHost): string {
  const units = host.units.map((u) => `${u.name}: ${u.dependsOn.length ? u.dependsOn.join(' ') : '(nothing)'}`);
  const bins = host.binaries.map(
    (b) => `${b.path} (${octal(b.mode)}) <- ${b.url}${b.archiveMember ? ` [${b.archiveMember}]` : ''}${b.checksumUrl ? ` sha256 ${b.checksumUrl}` : ' (no published checksum)'}`,
  );
  return [`==> ${host.name} units (start order: restart triggers) <==`, ...units, '', `==> ${host.name} binaries <==`, ...bins, ''].join('\n');
}

/** A whole rendered cluster as one text: every host's files, units, binaries, then cluster/. */
export function renderedClusterText(rc: RenderedCluster): string {
  const parts: string[] = [];
  for (const h of rc.hosts.values()) {
    parts.push(filesText(h.files, `${h.name}:`));
    parts.push(hostPlanText(h));
  }
  parts.push(filesText(rc.cluster, 'cluster/'));
  return parts.filter((p) => p !== '').join('\n');
}

// The shipped example specs as test fixtures, optionally at another Kubernetes version.
import { readFileSync } from 'node:fs';
import { plannedHosts } from '../../src/providers/provider.ts';
import type { RenderInput } from '../../src/render/types.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';

export type ExampleName = 'seed' | 'digitalocean';

export function exampleText(name: ExampleName): string {
  return readFileSync(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8');
}

/** The example's text with `kubernetes.version` replaced (quoted, so "1.30" stays a string). */
export function exampleTextAt(name: ExampleName, version: string | undefined): string {
  const text = exampleText(name);
  if (version === undefined) return text;
  const replaced = text.replace(/^(\s+version:\s*).*$/m, `$1"${version}"`);
  if (replaced === text) throw new Error(`example ${name}: no kubernetes.version line to replace`);
  return replaced;
}

export function exampleCluster(name: ExampleName, version?: string): Cluster {
  return parseCluster(exampleTextAt(name, version), `${name}.yaml`);
}

/** A render input for the example: its planned hosts, no credentials. */
export function exampleInput(name: ExampleName, version?: string): RenderInput {
  const cluster = exampleCluster(name, version);
  return { cluster, hosts: plannedHosts(cluster) };
}

// A temp directory with a cluster spec in it, for PKI tests (removed by `cleanup`), and a way
// to run openssl/cfssl as the judges.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';

export interface StaticNode {
  name: string;
  address: string;
  privateAddress?: string;
}

export const twoNodes: StaticNode[] = [
  { name: 'w1', address: '203.0.113.10', privateAddress: '10.0.0.10' },
  { name: 'w2', address: '203.0.113.11', privateAddress: '10.0.0.11' },
];

/** A modern spec with static hosts (addresses are documentation ranges; nothing connects to them). */
export function modernSpec(nodes: StaticNode[] = twoNodes, pki = 'pki: { dir: ./pki, names: { C: DE, L: NW, ST: Wesel } }'): string {
  const hosts = nodes
    .map((n) => `      - { name: ${n.name}, address: ${n.address}${n.privateAddress ? `, privateAddress: ${n.privateAddress}` : ''} }`)
    .join('\n');
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: pkitest }
profile: modern
kubernetes: { apiServer: "https://api.pkitest.example:6443" }
provider:
  static:
    hosts:
${hosts}
${pki}
`;
}

export interface Workspace {
  dir: string;
  spec: string;
  pki: string;
  writeSpec(text: string): Promise<Cluster>;
  cleanup(): Promise<void>;
}

export async function workspace(prefix: string): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), `kw-pki-${prefix}-`));
  const spec = join(dir, 'cluster.yaml');
  return {
    dir,
    spec,
    pki: join(dir, 'pki'),
    async writeSpec(text) {
      await writeFile(spec, text);
      return parseCluster(text, spec);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs a judge tool (openssl, cfssl) and returns its output; the test decides what to assert. */
export function tool(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// Test harness: the DigitalOcean simulator (test double) behind a Prism proxy that validates
// every request and response against the contract, a fake clock shared by both, and a spec
// directory of its own. One harness per test file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DigitalOceanClient, type ApiCallEvent, type DigitalOceanClientOptions } from '../../src/providers/digitalocean/api-client.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { DigitalOceanSimulator, type SimulatorOptions } from '../support/do-simulator.ts';
import { startPrismProxy, type PrismProxy } from '../support/prism.ts';
import { FakeClock } from './fake-clock.ts';

export const canaryToken = 'dop_v1_CANARY0c4f7e2b9a1d35e8f6a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3';

export interface Harness {
  sim: DigitalOceanSimulator;
  prism: PrismProxy;
  clock: FakeClock;
  dir: string;
  calls: ApiCallEvent[];
  client(opts?: Partial<DigitalOceanClientOptions>): DigitalOceanClient;
  /** a spec file in the harness dir; returns the parsed cluster */
  cluster(count: number, extra?: { provider?: string; ssh?: string; name?: string }): Promise<Cluster>;
  stop(): Promise<void>;
}

export async function startHarness(simOpts: Partial<SimulatorOptions> = {}, realClock = false): Promise<Harness> {
  const clock = new FakeClock();
  const sim = new DigitalOceanSimulator({ token: canaryToken, ...(realClock ? {} : { now: () => clock.now() }), ...simOpts });
  await sim.start();
  let prism: PrismProxy | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'kubewright-do-'));
  try {
    prism = await startPrismProxy(sim.url);
  } catch (e) {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const calls: ApiCallEvent[] = [];
  const p = prism;
  return {
    sim, prism: p, clock, dir, calls,
    client: (opts = {}) =>
      new DigitalOceanClient({ token: canaryToken, baseUrl: p.url, clock, requestTimeoutMs: 10_000, onCall: (e) => calls.push(e), ...opts }),
    cluster: async (count, extra = {}) => {
      const text = [
        'apiVersion: kubewright.dev/v1alpha1',
        'kind: Cluster',
        `metadata: { name: ${extra.name ?? 'demo'} }`,
        'kubernetes: { apiServer: "https://api.example.com:6443" }',
        'provider:',
        extra.provider ?? '  digitalocean: { region: fra1, size: s-1vcpu-1gb, image: ubuntu-24-04-x64, tags: [k8s-worker], sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], domain: example.com }',
        `workers: { count: ${count} }`,
        extra.ssh ?? 'ssh: { knownHostsPath: ./known_hosts }',
        '',
      ].join('\n');
      const file = join(dir, `${extra.name ?? 'demo'}.yaml`);
      await writeFile(file, text);
      return parseCluster(text, file);
    },
    stop: async () => {
      await p.stop();
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

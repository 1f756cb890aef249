// The provider step of `provision` and `up`: make the spec's hosts exist and say how to reach
// them. Each provider keeps its own rules (DigitalOcean creates only missing droplets and pins
// their host keys; lab boots local machines; Terraform and static hosts already exist).
import type { Clock } from './digitalocean/api-client.ts';
import type { EnsureEvent } from './digitalocean/ensure-workers.ts';
import { openDigitalOceanClient } from './digitalocean/open-client.ts';
import { DigitalOceanProvider } from './digitalocean/provider.ts';
import type { Host } from '../spec/host.ts';
import { LabProvider } from './lab/lab-provider.ts';
import { StaticProvider } from './static/static-provider.ts';
import { TerraformOutputProvider } from './terraform/provider.ts';
import type { Cluster } from '../spec/cluster.ts';

export interface EnsureHostsOptions {
  tokenFile?: string | undefined;
  apiUrl?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  prune?: boolean | undefined;
  pollIntervalMs?: number | undefined;
  deadlineMs?: number | undefined;
  clock?: Clock | undefined;
  /** DigitalOcean create/prune events as they happen */
  onEvent?: ((e: EnsureEvent) => void) | undefined;
  /** free-form progress lines (lab image and boot) */
  progress?: ((line: string) => void) | undefined;
}

export interface EnsuredHosts {
  hosts: Host[];
  /** names created by this call */
  created: string[];
  /** hosts beyond workers.count that were kept (DigitalOcean without --prune) */
  extras: string[];
  pruned: string[];
  /** hosts whose SSH host key kubewright could not pin (made outside kubewright) */
  unpinned: string[];
  /** DigitalOcean API requests made */
  apiCalls: number;
}

export async function ensureHosts(cluster: Cluster, opts: EnsureHostsOptions = {}): Promise<EnsuredHosts> {
  const none = { created: [], extras: [], pruned: [], unpinned: [], apiCalls: 0 };
  switch (cluster.provider.kind) {
    case 'static':
      return { ...none, hosts: await new StaticProvider(cluster).ensure() };
    case 'lab': {
      const provider = new LabProvider(cluster, opts.progress ? { progress: opts.progress } : {});
      const before = new Set((await provider.hosts()).filter((h) => h.address).map((h) => h.name));
      const hosts = await provider.ensure();
      return { ...none, hosts, created: hosts.filter((h) => !before.has(h.name)).map((h) => h.name) };
    }
    case 'terraform': {
      const provider = new TerraformOutputProvider(cluster);
      const hosts = await provider.hosts();
      return { ...none, hosts, unpinned: await provider.pinHostKeys() };
    }
    case 'digitalocean': {
      let apiCalls = 0;
      const client = await openDigitalOceanClient({
        tokenFile: opts.tokenFile,
        apiUrl: opts.apiUrl,
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.clock ? { clock: opts.clock } : {}),
        onCall: () => apiCalls++,
      });
      const provider = new DigitalOceanProvider({
        cluster,
        client,
        prune: opts.prune ?? false,
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      });
      const hosts = await provider.ensure();
      const r = provider.lastReport;
      return { hosts, created: r?.created ?? [], extras: r?.extras ?? [], pruned: r?.pruned ?? [], unpinned: r?.unpinned ?? [], apiCalls };
    }
  }
}

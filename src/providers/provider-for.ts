// The one place that picks a provider for a spec: every command asks providerFor(cluster) and
// talks to the Provider interface, never to a provider kind.
import type { Cluster } from '../spec/cluster.ts';
import type { Clock } from './digitalocean/api-client.ts';
import type { EnsureEvent } from './digitalocean/ensure-workers.ts';
import { openDigitalOceanClient } from './digitalocean/open-client.ts';
import { DigitalOceanProvider } from './digitalocean/provider.ts';
import { LabProvider } from './lab/lab-provider.ts';
import type { Provider } from './provider.ts';
import { StaticProvider } from './static/static-provider.ts';
import { TerraformOutputProvider } from './terraform/provider.ts';

export interface ProviderOptions {
  /** DigitalOcean: the API token file (else $DIGITALOCEAN_ACCESS_TOKEN); read only when the API is called */
  tokenFile?: string | undefined;
  /** DigitalOcean: the API base URL (else $DIGITALOCEAN_API_URL, else https://api.digitalocean.com) */
  apiUrl?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** DigitalOcean ensure: delete workers beyond workers.count */
  prune?: boolean | undefined;
  /** DigitalOcean destroy: also delete tagged droplets that are not this cluster's workers */
  allTagged?: boolean | undefined;
  pollIntervalMs?: number | undefined;
  deadlineMs?: number | undefined;
  clock?: Clock | undefined;
  /** DigitalOcean create/prune events as they happen */
  onEvent?: ((e: EnsureEvent) => void) | undefined;
  /** free-form progress lines (lab image and boot) */
  progress?: ((line: string) => void) | undefined;
}

export function providerFor(cluster: Cluster, opts: ProviderOptions = {}): Provider {
  switch (cluster.provider.kind) {
    case 'static':
      return new StaticProvider(cluster);
    case 'lab':
      return new LabProvider(cluster, opts.progress ? { progress: opts.progress } : {});
    case 'terraform':
      return new TerraformOutputProvider(cluster);
    case 'digitalocean':
      return new DigitalOceanProvider({
        cluster,
        client: (onCall) =>
          openDigitalOceanClient({
            tokenFile: opts.tokenFile,
            apiUrl: opts.apiUrl,
            ...(opts.env ? { env: opts.env } : {}),
            ...(opts.clock ? { clock: opts.clock } : {}),
            onCall,
          }),
        prune: opts.prune ?? false,
        allTagged: opts.allTagged ?? false,
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      });
  }
}

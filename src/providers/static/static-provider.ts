// Hosts listed in the spec (`provider.static.hosts`): nothing to create or destroy, only to reach.
import { InputError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { plannedHosts, type Provider } from '../provider.ts';
import type { Host } from '../../spec/host.ts';

export class StaticProvider implements Provider {
  private readonly cluster: Cluster;

  constructor(cluster: Cluster) {
    if (cluster.provider.kind !== 'static') {
      throw new InputError(`provider: the static provider needs provider.static (spec has provider.${cluster.provider.kind})`, {
        hint: 'list the hosts under provider.static.hosts',
      });
    }
    this.cluster = cluster;
  }

  /** The spec's hosts as written, with ssh.user/ssh.port as defaults. */
  async hosts(): Promise<Host[]> {
    return plannedHosts(this.cluster);
  }

  /** Static hosts exist already: ensure only returns them. */
  async ensure(): Promise<Host[]> {
    return this.hosts();
  }
}

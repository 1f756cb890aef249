// Hosts listed in the spec (`provider.static.hosts`): nothing to create or destroy, only to reach.
import { InputError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import { noReport, plannedHosts, type DestroyResult, type EnsuredHosts, type Provider, type ProviderPlan, type Teardown } from '../provider.ts';

export class StaticProvider implements Provider {
  readonly kind = 'static';
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
  async recorded(): Promise<Host[]> {
    return plannedHosts(this.cluster);
  }

  async plan(): Promise<ProviderPlan> {
    return { hosts: await this.recorded() };
  }

  /** Static hosts exist already: ensure only returns them. */
  async ensure(): Promise<EnsuredHosts> {
    return { hosts: await this.recorded(), report: noReport() };
  }

  destroy(_confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult> {
    throw new InputError('down: provider.static hosts are not created by kubewright', { hint: 'remove the hosts yourself' });
  }
}

// Hosts listed in the spec (`provider.static.hosts`): nothing to create or destroy, only to reach.
import { InputError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import { readStaticHosts, writeStaticHosts } from './static-state.ts';
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

  /**
   * Static hosts exist already: ensure returns them and records them, keeping hosts an earlier
   * `up` recorded that have left the spec (reported as extras) until `release` forgets them.
   */
  async ensure(): Promise<EnsuredHosts> {
    const hosts = await this.recorded();
    const retired = await this.retired();
    await writeStaticHosts(this.cluster, [...hosts, ...retired]);
    return { hosts, report: { ...noReport(), extras: retired.map((h) => h.name) } };
  }

  /** Hosts recorded by an earlier `up` that the spec no longer lists (by name). */
  async retired(): Promise<Host[]> {
    const inSpec = new Set(plannedHosts(this.cluster).map((h) => h.name));
    return (await readStaticHosts(this.cluster)).filter((h) => !inSpec.has(h.name));
  }

  /** Forgets these hosts (nothing to destroy: kubewright did not create them). */
  async release(hosts: readonly Host[]): Promise<string[]> {
    const names = new Set(hosts.map((h) => h.name));
    const inSpec = plannedHosts(this.cluster).filter((h) => names.has(h.name)).map((h) => h.name);
    if (inSpec.length > 0) throw new InputError(`static: refusing to forget ${inSpec.join(', ')}: still in provider.static.hosts`, { hint: 'remove the host from the spec first' });
    await writeStaticHosts(this.cluster, (await readStaticHosts(this.cluster)).filter((h) => !names.has(h.name)));
    return [...names];
  }

  destroy(_confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult> {
    throw new InputError('down: provider.static hosts are not created by kubewright', { hint: 'remove the hosts yourself' });
  }
}

// The terraform provider: hosts come from a saved `terraform output -json`
// (spec provider.terraform.outputFile); Terraform, not kubewright, creates and destroys them.
// `up` records the output's hosts (.kubewright/<cluster>/terraform.json), so a host that left the
// output is still known: `up --prune` drains and resets it, then forgets it; its droplet stays
// Terraform's to destroy.
import { InputError, KubewrightError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import { updateKnownHosts } from '../digitalocean/known-hosts.ts';
import { specPath } from '../../spec/spec-path.ts';
import { noReport, type DestroyResult, type EnsuredHosts, type Provider, type ProviderPlan, type Teardown } from '../provider.ts';
import { readTerraformOutput } from './output-hosts.ts';
import { readStaticHosts, writeStaticHosts } from '../static/static-state.ts';
import { keysToPin, readRotations } from '../host-key-rotation.ts';

export class TerraformOutputProvider implements Provider {
  readonly kind = 'terraform';
  private readonly cluster: Cluster;
  readonly outputFile: string;

  constructor(cluster: Cluster) {
    if (cluster.provider.kind !== 'terraform') {
      throw new KubewrightError(`provider: the spec uses provider.${cluster.provider.kind}, not provider.terraform`);
    }
    this.cluster = cluster;
    this.outputFile = specPath(cluster, cluster.provider.outputFile);
  }

  /** The hosts of the saved output. */
  async recorded(): Promise<Host[]> {
    const { port, user } = this.cluster.ssh;
    return (await readTerraformOutput(this.outputFile)).map((h) => ({
      name: h.name, address: h.publicAddress, port, user, publicAddress: h.publicAddress, privateAddress: h.privateAddress,
    }));
  }

  async plan(): Promise<ProviderPlan> {
    return { hosts: await this.recorded() };
  }

  /**
   * Terraform created the hosts: ensure pins the host keys it generated, records the hosts (with
   * those an earlier `up` recorded that have left the output, reported as extras) and returns them.
   */
  async ensure(): Promise<EnsuredHosts> {
    const hosts = await this.recorded();
    const unpinned = await this.pinHostKeys();
    const retired = await this.retired();
    await writeStaticHosts(this.cluster, [...hosts, ...retired], 'terraform');
    return { hosts, report: { ...noReport(), unpinned, extras: retired.map((h) => h.name) } };
  }

  /** Hosts recorded by an earlier `up` that the saved output no longer lists (by name). */
  async retired(): Promise<Host[]> {
    const inOutput = new Set((await this.recorded()).map((h) => h.name));
    return (await readStaticHosts(this.cluster, 'terraform')).filter((h) => !inOutput.has(h.name));
  }

  /** Forgets these hosts; their droplets are Terraform's: kubewright destroys nothing. */
  async release(hosts: readonly Host[]): Promise<string[]> {
    const names = new Set(hosts.map((h) => h.name));
    const inOutput = (await this.recorded()).filter((h) => names.has(h.name)).map((h) => h.name);
    if (inOutput.length > 0) throw new InputError(`terraform: refusing to forget ${inOutput.join(', ')}: still in ${this.outputFile}`, { hint: 'remove the host in Terraform, then save `terraform output -json` again' });
    await writeStaticHosts(this.cluster, (await readStaticHosts(this.cluster, 'terraform')).filter((h) => !names.has(h.name)), 'terraform');
    return [...names];
  }

  destroy(_confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult> {
    throw new InputError('down: provider.terraform hosts are not created by kubewright', { hint: 'run `terraform destroy` where main.tf.json lives' });
  }

  /** Pins the host keys Terraform generated in the cluster's known_hosts; returns hosts without one. */
  async pinHostKeys(): Promise<string[]> {
    const hosts = await readTerraformOutput(this.outputFile);
    const port = this.cluster.ssh.port;
    const fmt = (n: string): string => (port === 22 ? n : `[${n}]:${port}`);
    // the tfstate holds every provisioning key: once a host's key was rotated, its own key is pinned instead
    const rotations = await readRotations(this.cluster);
    await updateKnownHosts(
      specPath(this.cluster, this.cluster.ssh.knownHostsPath),
      hosts.flatMap((h) => {
        if (!h.hostKey) return [];
        const names = [h.name, h.publicAddress, ...(h.privateAddress ? [h.privateAddress] : [])].map(fmt);
        return keysToPin(rotations, h.name, h.hostKey).map((publicKey) => ({ names, publicKey }));
      }),
    );
    return hosts.filter((h) => !h.hostKey).map((h) => h.name);
  }
}

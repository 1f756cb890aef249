// The terraform provider: hosts come from a saved `terraform output -json`
// (spec provider.terraform.outputFile); Terraform, not kubewright, creates and destroys them.
import { InputError, KubewrightError } from '../../errors.ts';
import type { Cluster } from '../../spec/cluster.ts';
import type { Host } from '../../spec/host.ts';
import { updateKnownHosts } from '../digitalocean/known-hosts.ts';
import { specPath } from '../../spec/spec-path.ts';
import { noReport, type DestroyResult, type EnsuredHosts, type Provider, type ProviderPlan, type Teardown } from '../provider.ts';
import { readTerraformOutput } from './output-hosts.ts';
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

  /** Terraform created the hosts: ensure pins the host keys it generated and returns the hosts. */
  async ensure(): Promise<EnsuredHosts> {
    const hosts = await this.recorded();
    return { hosts, report: { ...noReport(), unpinned: await this.pinHostKeys() } };
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

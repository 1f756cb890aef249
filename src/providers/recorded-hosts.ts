// The hosts a spec has as far as kubewright knows without calling any API: static hosts as
// written; DigitalOcean names from the pattern with the addresses recorded by the last
// `provision`; lab machines from the lab state; Terraform hosts from the saved output.
// `render` and `plan` use this so they never need a token.
import { readDropletState } from './digitalocean/droplet-state.ts';
import { dropletStateFile } from './digitalocean/state-paths.ts';
import { plannedHosts } from './provider.ts';
import type { Host } from '../spec/host.ts';
import { LabProvider } from './lab/lab-provider.ts';
import { TerraformOutputProvider } from './terraform/provider.ts';
import type { Cluster } from '../spec/cluster.ts';

export async function recordedHosts(cluster: Cluster): Promise<Host[]> {
  switch (cluster.provider.kind) {
    case 'static':
      return plannedHosts(cluster);
    case 'lab':
      return new LabProvider(cluster).hosts();
    case 'terraform':
      return new TerraformOutputProvider(cluster).hosts();
    case 'digitalocean': {
      const state = await readDropletState(dropletStateFile(cluster));
      return plannedHosts(cluster).map((h) => {
        const known = state?.hosts.find((s) => s.name === h.name);
        return known
          ? { ...h, address: known.publicAddress, publicAddress: known.publicAddress, privateAddress: known.privateAddress }
          : h;
      });
    }
  }
}

// The API endpoint as the last `up`/`provision` left it: with DigitalOcean masters and no endpoint
// in the spec, the endpoint is the API load balancer's IP (more than one master) or the master
// droplet's public address (one), known only once they exist. The droplet state file records
// both, so every later command (kubeconfig, verify, plan, apply) reaches the same endpoint without
// an API call or a token.
import { awaitsEndpointAddress, withEndpointAddress, type Cluster } from '../../spec/cluster.ts';
import { controlPlaneNamePatterns, withLoadBalancerEndpoint } from '../../spec/control-plane-droplets.ts';
import { workerName } from '../provider.ts';
import { readDropletState } from './droplet-state.ts';
import { dropletStateFile } from './state-paths.ts';

/** The cluster with the recorded balancer's IP (or the one master's address) as its endpoint when the spec leaves the endpoint to them; else unchanged. */
export async function withRecordedEndpoint(cluster: Cluster): Promise<Cluster> {
  const p = cluster.provider;
  if (p.kind !== 'digitalocean' || !awaitsEndpointAddress(cluster)) return cluster;
  const state = await readDropletState(dropletStateFile(cluster));
  if (!state) return cluster;
  switch (cluster.controlPlane?.endpoint.source) {
    case 'load-balancer':
      return state.loadBalancer ? withLoadBalancerEndpoint(cluster, state.loadBalancer.ip) : cluster;
    case 'first-master': {
      const name = workerName(controlPlaneNamePatterns['control-plane'], 0, p.domain);
      const master = state.hosts.find((h) => h.name === name);
      return master ? withEndpointAddress(cluster, master.publicAddress) : cluster;
    }
    default:
      return cluster;
  }
}

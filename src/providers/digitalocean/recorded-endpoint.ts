// The API endpoint as the last `up`/`provision` left it: with more than one DigitalOcean master
// and no endpoint in the spec, the endpoint is the API load balancer's IP, known only once the
// balancer exists. The droplet state file records it, so every later command (kubeconfig, verify,
// plan, apply) reaches the same endpoint without an API call or a token.
import { awaitsLoadBalancerIp, type Cluster } from '../../spec/cluster.ts';
import { withLoadBalancerEndpoint } from '../../spec/control-plane-droplets.ts';
import { readDropletState } from './droplet-state.ts';
import { dropletStateFile } from './state-paths.ts';

/** The cluster with the recorded balancer's IP as its endpoint when the spec leaves the endpoint to it; else unchanged. */
export async function withRecordedLoadBalancer(cluster: Cluster): Promise<Cluster> {
  if (cluster.provider.kind !== 'digitalocean' || !awaitsLoadBalancerIp(cluster)) return cluster;
  const lb = (await readDropletState(dropletStateFile(cluster)))?.loadBalancer;
  return lb ? withLoadBalancerEndpoint(cluster, lb.ip) : cluster;
}

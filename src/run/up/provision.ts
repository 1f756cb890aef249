// Step 1: the hosts, from the provider (created when missing for DigitalOcean, lab and Terraform),
// and the cluster as they settle it: with the API load balancer's IP as the endpoint when the
// provider keeps one, before the PKI step, so the serving certificate has that IP and every
// kubeconfig names it.
import { KubewrightError } from '../../errors.ts';
import type { ProviderReport } from '../../providers/provider.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { awaitsEndpointAddress, withEndpointAddress, type Cluster } from '../../spec/cluster.ts';
import { controlPlaneHosts, type Host } from '../../spec/host.ts';
import { withLoadBalancerEndpoint } from '../../spec/control-plane-droplets.ts';
import type { UpPhase } from './up-phase.ts';

/**
 * The cluster with the endpoint the provider's hosts settle: the API load balancer's IP, or the one
 * master droplet's address (public, else the one SSH uses); an endpoint still without an address is
 * an error.
 */
export function settleEndpoint(cluster: Cluster, report: Pick<ProviderReport, 'loadBalancer'>, hosts: readonly Host[]): Cluster {
  const lb = report.loadBalancer;
  let settled = lb ? withLoadBalancerEndpoint(cluster, lb.ip) : cluster;
  const master = controlPlaneHosts(hosts)[0];
  const masterAddress = master?.publicAddress ?? master?.address;
  if (settled.controlPlane?.endpoint.source === 'first-master' && awaitsEndpointAddress(settled) && masterAddress !== undefined) settled = withEndpointAddress(settled, masterAddress);
  if (awaitsEndpointAddress(settled)) {
    const what = settled.controlPlane?.endpoint.source === 'load-balancer' ? "the load balancer's IP" : "the master's address";
    throw new KubewrightError(`provision: the API endpoint is ${what}, and ${cluster.provider.kind} reported none`, {
      hint: 're-run `kubewright up`; or give controlPlane.endpoint (a DNS name or address in front of the masters)',
    });
  }
  return settled;
}

export const provision: UpPhase = {
  name: 'provision',
  title: 'hosts from the provider, created when missing',
  plan: (ctx) => ({ run: `${ctx.cluster.provider.kind}: ensuring ${ctx.cluster.workers.count || 'the listed'} hosts` }),
  async run(ctx) {
    // prune is the remove step's (drain before destroy), never a delete inside the provider's ensure
    const { hosts, report } = await providerFor(ctx.spec, { ...ctx.opts.provider, prune: false }).ensure();
    ctx.result.provision = report;
    ctx.result.hosts = hosts.map((h) => ({ name: h.name, publicAddress: h.publicAddress ?? h.address, privateAddress: h.privateAddress, status: 'planned', actions: 0 }));
    const unaddressed = hosts.filter((h) => !h.address);
    if (unaddressed.length > 0) {
      throw new KubewrightError(`provision: no address for ${unaddressed.map((h) => h.name).join(', ')}`, { hint: 're-run `kubewright up`; the provider may still be assigning addresses' });
    }
    ctx.put('hosts', hosts);
    const settled = settleEndpoint(ctx.spec, report, hosts);
    ctx.put('cluster', settled);
    const lb = report.loadBalancer ? `; API load balancer ${report.loadBalancer.name} at ${report.loadBalancer.ip} (${report.loadBalancer.action})` : '';
    return `${hosts.length} hosts ready (${report.created.length} created)${lb}`;
  },
};

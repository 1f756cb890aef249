// Step 1: the hosts, from the provider (created when missing for DigitalOcean, lab and Terraform).
import { KubewrightError } from '../../errors.ts';
import { providerFor } from '../../providers/provider-for.ts';
import type { UpPhase } from './up-phase.ts';

export const provision: UpPhase = {
  name: 'provision',
  title: 'hosts from the provider, created when missing',
  plan: (ctx) => ({ run: `${ctx.cluster.provider.kind}: ensuring ${ctx.cluster.workers.count || 'the listed'} hosts` }),
  async run(ctx) {
    // prune is the remove step's (drain before destroy), never a delete inside the provider's ensure
    const { hosts, report } = await providerFor(ctx.cluster, { ...ctx.opts.provider, prune: false }).ensure();
    ctx.result.provision = report;
    ctx.result.hosts = hosts.map((h) => ({ name: h.name, publicAddress: h.publicAddress ?? h.address, privateAddress: h.privateAddress, status: 'planned', actions: 0 }));
    const unaddressed = hosts.filter((h) => !h.address);
    if (unaddressed.length > 0) {
      throw new KubewrightError(`provision: no address for ${unaddressed.map((h) => h.name).join(', ')}`, { hint: 're-run `kubewright up`; the provider may still be assigning addresses' });
    }
    ctx.put('hosts', hosts);
    return `${hosts.length} hosts ready (${report.created.length} created)`;
  },
};

// Step 5: the DNS add-on through the Kubernetes API, as the admin.
import { applyDnsAddon } from '../../addons/apply-dns-addon.ts';
import { adminKubeConfig } from '../../verify/kube-client.ts';
import type { UpPhase } from './up-phase.ts';

export const dnsAddon: UpPhase = {
  name: 'dns',
  title: 'the DNS add-on through the Kubernetes API',
  plan: (ctx) => ({ run: `${ctx.cluster.dns} addon at ${ctx.cluster.kubernetes.clusterDNS}` }),
  async run(ctx) {
    const pki = ctx.need('pki');
    const kubeConfig = adminKubeConfig(ctx.cluster.kubernetes.apiServer, pki.credentials.caPem, pki.admin);
    ctx.put('kubeConfig', kubeConfig);
    const applied = await applyDnsAddon(kubeConfig, ctx.need('prepared').clusterFiles);
    ctx.result.dns = applied;
    const changed = applied.filter((o) => o.action !== 'unchanged').length;
    return changed === 0 ? `${applied.length} objects unchanged` : `${changed} of ${applied.length} objects created or configured`;
  },
};

// Step 5: flannel's network config in etcd. The etcd connection is resolved once, here, for the
// config and for verify's lease check: the etcd cluster kubewright built (the etcd-cluster step's
// members and client certificate) with a controlPlane section, else etcd.discovery.
import { resolveEtcdConnection } from '../../etcd/etcd-connection.ts';
import { openEtcdStore } from '../../etcd/etcd-store.ts';
import { writeFlannelNetworkConfig } from '../../etcd/flannel-network-config.ts';
import { dropletPrivateIpLister } from '../../providers/digitalocean/etcd-endpoints.ts';
import type { UpPhase } from './up-phase.ts';

const noDiscovery = "no etcd.discovery in the spec: flannel's network config is left to whoever runs etcd";

export const etcdNetwork: UpPhase = {
  name: 'etcd',
  title: "flannel's network config in etcd",
  plan: (ctx) => {
    if (ctx.cluster.controlPlane) return { run: `${ctx.cluster.etcd.prefix}/config in the new etcd cluster via the ${ctx.cluster.etcd.api} API` };
    const { endpoints, digitaloceanTag } = ctx.cluster.etcd.discovery;
    if (!endpoints?.length && !digitaloceanTag) return { skip: noDiscovery };
    return { run: `${ctx.cluster.etcd.prefix}/config via the ${ctx.cluster.etcd.api} API` };
  },
  skipped(ctx, reason) {
    ctx.put('etcd', undefined);
    ctx.result.etcd = { action: 'skipped', reason };
  },
  async run(ctx, say) {
    const { cluster, opts } = ctx;
    const provider = opts.provider;
    const built = cluster.controlPlane ? ctx.need('etcdCluster') : undefined;
    const conn = built?.connection ?? await resolveEtcdConnection(cluster, { listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: provider?.tokenFile, apiUrl: provider?.apiUrl, env: provider?.env }) });
    ctx.put('etcd', conn);
    say(`${cluster.etcd.prefix}/config at ${conn.endpoints.join(', ')}`);
    const store = openEtcdStore(cluster.etcd.api, conn);
    try {
      const r = await writeFlannelNetworkConfig(store, cluster, { force: opts.forceNetwork ?? false });
      ctx.result.etcd = { key: r.key, action: r.action, changes: r.changes, endpoints: conn.endpoints };
      return `${r.key}: ${r.action}`;
    } finally {
      store.close();
    }
  },
};

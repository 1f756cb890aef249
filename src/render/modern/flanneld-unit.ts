// flanneld.service (modern): like the post's — after etcd-lookup, ETCD_MEMBERS from the file it
// writes, TLS client certificate — with flannel ≥ 0.18 speaking the etcd v3 API on those endpoints.
import type { Cluster } from '../../spec/cluster.ts';
import { flagSupported } from '../../spec/matrix.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { modernPaths } from './paths.ts';

/**
 * `iface`: the host's private address when the provider knows it, so flannel's overlay runs over the
 * private network instead of the interface of the default route (a droplet's public one).
 */
export function renderModernFlanneldUnit(cluster: Cluster, etcdLookupUnit: string, iface?: string): string {
  const v = cluster.kubernetes.version;
  const args = [
    '-etcd-endpoints=${ETCD_MEMBERS}',
    `-etcd-prefix=${cluster.etcd.prefix}`,
    `-etcd-cafile=${modernPaths.etcdCa}`,
    `-etcd-certfile=${modernPaths.etcdClientCert}`,
    `-etcd-keyfile=${modernPaths.etcdClientKey}`,
    ...(cluster.flannel.ipMasq ? ['-ip-masq'] : []),
    ...(iface ? [`-iface=${iface}`] : []),
  ].filter((a) => flagSupported('flanneld', a, v));
  return renderServiceUnit({
    unit: [
      ['Description', 'flanneld'],
      ['Requires', etcdLookupUnit],
      ['After', `network-online.target ${etcdLookupUnit}`],
      ['Wants', 'network-online.target'],
    ],
    service: [
      ['EnvironmentFile', modernPaths.etcdMembers],
      ['ExecStart', execCommand(modernPaths.flanneldBinary, args)],
    ],
  });
}

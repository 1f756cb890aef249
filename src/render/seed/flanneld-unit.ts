// The post's flanneld.service: runs after etcd-lookup, reads ETCD_MEMBERS from the file it writes,
// authenticates to etcd with a client certificate.
import { flagSupported } from '../../spec/matrix.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { seedPaths } from './paths.ts';

export function renderSeedFlanneldUnit(cluster: Cluster, etcdLookupUnit: string): string {
  const v = cluster.kubernetes.version;
  const args = [
    '-etcd-endpoints=${ETCD_MEMBERS}',
    `-etcd-prefix=${cluster.etcd.prefix}`,
    `-etcd-cafile=${seedPaths.etcdCa}`,
    `-etcd-certfile=${seedPaths.etcdClientCert}`,
    `-etcd-keyfile=${seedPaths.etcdClientKey}`,
    ...(cluster.flannel.ipMasq ? ['-ip-masq'] : []),
  ].filter((a) => flagSupported('flanneld', a, v));
  return renderServiceUnit({
    unit: [['Description', 'flanneld'], ['Requires', etcdLookupUnit], ['After', etcdLookupUnit]],
    service: [
      ['EnvironmentFile', seedPaths.etcdMembers],
      ['ExecStart', execCommand(seedPaths.flanneldBinary, args)],
    ],
  });
}

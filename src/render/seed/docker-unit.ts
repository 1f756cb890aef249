// The post's docker.service: starts after flanneld and takes its bridge subnet and MTU from the
// environment file flanneld writes; docker's own iptables and masquerading are off (flannel does it).
import { flagSupported } from '../../spec/matrix.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { execCommand, renderServiceUnit } from '../unit-file.ts';
import { seedPaths } from './paths.ts';

export function renderSeedDockerUnit(cluster: Cluster): string {
  const v = cluster.kubernetes.version;
  const args = [
    '--iptables=false',
    '--ip-masq=false',
    `--host=unix://${seedPaths.dockerSocket}`,
    '--storage-driver=overlay2',
    '--bip=${FLANNEL_SUBNET}',
    '--mtu=${FLANNEL_MTU}',
  ].filter((a) => flagSupported('dockerd', a, v));
  return renderServiceUnit({
    unit: [['Description', 'dockerd'], ['Requires', 'flanneld.service'], ['After', 'network.target flanneld.service']],
    service: [
      ['EnvironmentFile', seedPaths.flannelSubnetEnv],
      ['ExecStart', execCommand(seedPaths.dockerdBinary, args)],
    ],
  });
}

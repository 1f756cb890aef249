// Where the post puts every file on a worker (the seed profile keeps these exactly).
import { flannelEtcdPaths } from '../flannel-etcd-paths.ts';
import { SYSTEMD_DIR } from '../unit-file.ts';

export const seedPaths = {
  flanneldBinary: '/usr/bin/flanneld',
  dockerdBinary: '/usr/bin/dockerd',
  kubeletBinary: '/usr/bin/kubelet',
  kubeProxyBinary: '/usr/bin/kube-proxy',
  flanneldUnit: `${SYSTEMD_DIR}/flanneld.service`,
  dockerUnit: `${SYSTEMD_DIR}/docker.service`,
  publicIpUnit: `${SYSTEMD_DIR}/public_ip.service`,
  kubeletUnit: `${SYSTEMD_DIR}/kubelet.service`,
  kubeProxyUnit: `${SYSTEMD_DIR}/kube-proxy.service`,
  ...flannelEtcdPaths,
  /** written by flanneld: FLANNEL_SUBNET, FLANNEL_MTU */
  flannelSubnetEnv: '/run/flannel/subnet.env',
  dockerSocket: '/var/run/docker.sock',
  /** the public_ip script: writes PUBLIC_IP= to publicIpEnv */
  publicIpScript: '/usr/local/bin/public_ip',
  publicIpEnv: '/etc/kubelet/public_ip',
  kubeletDir: '/etc/kubelet',
  kubeconfig: '/etc/kubelet/kube-config.yml',
  kubeCa: '/etc/kubelet/kube-ca.pem',
  kubeletCert: '/etc/kubelet/kubelet.pem',
  kubeletKey: '/etc/kubelet/kubelet-key.pem',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: '/opt/cni/bin',
} as const;

// Where the modern profile puts every file on a worker: binaries under /usr/local, kubeadm-style
// state dirs (/var/lib/kubelet, /var/lib/kube-proxy), certificates under /etc/kubernetes/pki, and
// flannel's etcd files where the post keeps them (/etc/flannel), so etcd-lookup serves both profiles.
import { CNI_BIN_DIR, installPaths } from '../release-binaries.ts';
import { flannelEtcdPaths } from '../flannel-etcd-paths.ts';
import { SYSTEMD_DIR } from '../unit-file.ts';

const BIN = installPaths.modern.bin;
const SBIN = installPaths.modern.sbin;

export const modernPaths = {
  flanneldBinary: `${BIN}/flanneld`,
  containerdBinary: `${BIN}/containerd`,
  containerdShimBinary: `${BIN}/containerd-shim-runc-v2`,
  runcBinary: `${SBIN}/runc`,
  kubeletBinary: `${BIN}/kubelet`,
  kubeProxyBinary: `${BIN}/kube-proxy`,
  flanneldUnit: `${SYSTEMD_DIR}/flanneld.service`,
  containerdUnit: `${SYSTEMD_DIR}/containerd.service`,
  kubeletUnit: `${SYSTEMD_DIR}/kubelet.service`,
  kubeProxyUnit: `${SYSTEMD_DIR}/kube-proxy.service`,
  ...flannelEtcdPaths,
  containerdConfig: '/etc/containerd/config.toml',
  containerdSocket: '/run/containerd/containerd.sock',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: CNI_BIN_DIR,
  cniConflist: '/etc/cni/net.d/10-flannel.conflist',
  kubeCa: '/etc/kubernetes/pki/ca.pem',
  kubeletCert: '/etc/kubernetes/pki/kubelet.pem',
  kubeletKey: '/etc/kubernetes/pki/kubelet-key.pem',
  kubeProxyCert: '/etc/kubernetes/pki/kube-proxy.pem',
  kubeProxyKey: '/etc/kubernetes/pki/kube-proxy-key.pem',
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  kubeletKubeconfig: '/var/lib/kubelet/kubeconfig',
  kubeProxyConfig: '/var/lib/kube-proxy/config.yaml',
  kubeProxyKubeconfig: '/var/lib/kube-proxy/kubeconfig',
  /** systemd-resolved's upstream list: kubelet hands it to pods so CoreDNS never forwards to the 127.0.0.53 stub */
  resolvedResolvConf: '/run/systemd/resolve/resolv.conf',
} as const;

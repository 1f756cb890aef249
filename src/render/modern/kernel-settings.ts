// Kernel settings a worker needs, as drop-ins the distro's own units apply (at boot, and when
// apply restarts them): modules overlay (containerd's snapshotter) and br_netfilter (so iptables
// sees bridged pod traffic), and the sysctls kubeadm's preflight insists on — IPv4 forwarding
// (without it no packet leaves a pod for another node; docker used to switch it on, containerd
// does not) and bridge-nf-call-iptables (Service rules for traffic between pods on one bridge).

export const MODULES_LOAD_PATH = '/etc/modules-load.d/kubewright.conf';
export const SYSCTL_PATH = '/etc/sysctl.d/90-kubewright.conf';
/** the distro units that read those drop-ins; restarting them applies a change without a reboot */
export const MODULES_LOAD_UNIT = 'systemd-modules-load.service';
export const SYSCTL_UNIT = 'systemd-sysctl.service';

/** IPVS mode needs the ip_vs schedulers kube-proxy may pick (kube-proxy's ipvs proxier checks for them). */
const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];

export function renderModulesLoad(proxyMode: 'iptables' | 'nftables' | 'ipvs'): string {
  return [
    '# kernel modules for a Kubernetes worker (rendered by kubewright)',
    'overlay',
    'br_netfilter',
    ...(proxyMode === 'ipvs' ? IPVS_MODULES : []),
    '',
  ].join('\n');
}

export function renderSysctl(): string {
  return [
    '# sysctls for a Kubernetes worker (rendered by kubewright)',
    'net.ipv4.ip_forward = 1',
    'net.bridge.bridge-nf-call-iptables = 1',
    'net.bridge.bridge-nf-call-ip6tables = 1',
    '',
  ].join('\n');
}

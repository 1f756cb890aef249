// /etc/cni/net.d/10-flannel.conflist as upstream kube-flannel.yml ships it (cni-conf.json): the
// flannel CNI plugin reads /run/flannel/subnet.env (written by flanneld) and delegates to the
// bridge plugin with host-local IPAM; hairpin mode lets a pod reach itself through its Service,
// isDefaultGateway routes pod traffic via the bridge; portmap serves hostPort.
export function renderFlannelConflist(): string {
  const conflist = {
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

// Where flannel's etcd access lives on every worker, in both profiles: the post's /etc/flannel.
// etcd-lookup writes the member list there; the PKI's etcd CA and flannel's client cert sit beside it.
export const flannelEtcdPaths = {
  /** written by etcd-lookup.service, read by flanneld: ETCD_MEMBERS=https://a:2379,... */
  etcdMembers: '/etc/flannel/etcd-members',
  etcdCa: '/etc/flannel/etcd-ca.pem',
  etcdClientCert: '/etc/flannel/etcd-client.pem',
  etcdClientKey: '/etc/flannel/etcd-client-key.pem',
} as const;

// The PKI material render places on hosts: settled by the resolve step (pki/ issues or reads it),
// so render stays a pure function of spec + hosts + credentials.

/** A certificate and its private key, PEM-encoded. */
export interface TlsCredential {
  certPem: string;
  keyPem: string;
}

/**
 * Material from the PKI that renderers place on hosts (or embed in kubeconfigs). Optional for
 * rendering: without it, files reference certificate paths (as the post does) and no
 * certificate files are rendered.
 */
export interface ClusterCredentials {
  /** the cluster CA certificate (the post's kube-ca.pem) */
  caPem: string;
  /** CA that signed etcd's serving certificate; defaults to caPem */
  etcdCaPem?: string;
  /** kubelet client(+serving) credential per host name; the seed profile maps every host to one shared credential */
  kubelet: Record<string, TlsCredential>;
  kubeProxy?: TlsCredential;
  /** flannel's etcd client certificate */
  etcdClient?: TlsCredential;
  /** admin client certificate (O system:masters) for `verify`; not placed on hosts */
  admin?: TlsCredential;
}

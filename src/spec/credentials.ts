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

/** The public and private halves of the service-account signing key (PEM). */
export interface ServiceAccountKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

/**
 * Material the control-plane hosts get (kube-apiserver, kube-controller-manager, kube-scheduler):
 * settled by the PKI (src/pki/control-plane-pki.ts), placed by the control-plane renderer.
 */
export interface ControlPlaneCredentials {
  caPem: string;
  /** the cluster CA key: kube-controller-manager signs kubelet certificate requests with it */
  caKeyPem: string;
  /** the CA etcd's serving certificate chains to (etcd's own CA, or the cluster CA in the one-CA layout) */
  etcdCaPem: string;
  /** kube-apiserver's serving certificate: every SAN the endpoint, the Service IP and the masters are reached by */
  apiserver: TlsCredential;
  apiserverKubeletClient: TlsCredential;
  apiserverEtcdClient: TlsCredential;
  controllerManager: TlsCredential;
  scheduler: TlsCredential;
  frontProxyCaPem: string;
  frontProxyClient: TlsCredential;
  serviceAccount: ServiceAccountKeyPair;
  /** base64 of 32 random bytes: the aescbc key that encrypts Secrets at rest */
  encryptionKey: string;
}

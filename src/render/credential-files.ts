// The certificate files a worker gets when the PKI material is at hand, for either profile (each
// passes its own paths): the cluster CA, the node's kubelet certificate (client as
// system:node:<name> and the kubelet's HTTPS server), kube-proxy's certificate where the profile
// has one, and flannel's etcd CA and client pair. Private keys are secret, 0600.
import { InputError } from '../errors.ts';
import type { ClusterCredentials } from '../spec/credentials.ts';
import type { RenderedFile } from './types.ts';

export interface CredentialPaths {
  kubeCa: string;
  kubeletCert: string;
  kubeletKey: string;
  etcdCa: string;
  etcdClientCert: string;
  etcdClientKey: string;
  /** absent where kube-proxy authenticates otherwise (the seed profile) */
  kubeProxy?: { cert: string; key: string } | undefined;
}

export interface CredentialFiles {
  kubelet: RenderedFile[];
  kubeProxy: RenderedFile[];
  flannel: RenderedFile[];
}

const pub = (path: string, contents: string): RenderedFile => ({ path, mode: 0o644, contents });
const secret = (path: string, contents: string): RenderedFile => ({ path, mode: 0o600, contents, secret: true });

/** Every path the credential files go to, whether or not a render has them. */
export function credentialPaths(p: CredentialPaths): string[] {
  return [p.kubeCa, p.kubeletCert, p.kubeletKey, ...(p.kubeProxy ? [p.kubeProxy.cert, p.kubeProxy.key] : []), p.etcdCa, p.etcdClientCert, p.etcdClientKey];
}

export function renderCredentialFiles(credentials: ClusterCredentials, hostName: string, p: CredentialPaths): CredentialFiles {
  const kubelet = credentials.kubelet[hostName];
  if (!kubelet) {
    throw new InputError(`render: no kubelet certificate for host ${hostName}`, {
      host: hostName,
      hint: 'issue the kubelet certificate (kubewright pki issue) before rendering with credentials',
    });
  }
  const flannel: RenderedFile[] = [pub(p.etcdCa, credentials.etcdCaPem ?? credentials.caPem)];
  if (credentials.etcdClient) {
    flannel.push(pub(p.etcdClientCert, credentials.etcdClient.certPem), secret(p.etcdClientKey, credentials.etcdClient.keyPem));
  }
  const kubeProxy = p.kubeProxy && credentials.kubeProxy
    ? [pub(p.kubeProxy.cert, credentials.kubeProxy.certPem), secret(p.kubeProxy.key, credentials.kubeProxy.keyPem)]
    : [];
  return {
    kubelet: [pub(p.kubeCa, credentials.caPem), pub(p.kubeletCert, kubelet.certPem), secret(p.kubeletKey, kubelet.keyPem)],
    kubeProxy,
    flannel,
  };
}

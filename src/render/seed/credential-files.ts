// The certificate files the post places on a worker, when the PKI material is at hand:
// kubelet's kube-ca.pem/kubelet.pem/kubelet-key.pem and flannel's etcd CA and client pair.
import { InputError } from '../../errors.ts';
import type { RenderedFile } from '../types.ts';
import type { ClusterCredentials } from '../../spec/credentials.ts';
import { seedPaths } from './paths.ts';

const pub = (path: string, contents: string): RenderedFile => ({ path, mode: 0o644, contents });
const secret = (path: string, contents: string): RenderedFile => ({ path, mode: 0o600, contents, secret: true });

/** Every path the credential files go to, whether or not a render has them */
export const seedCredentialPaths: readonly string[] = [seedPaths.kubeCa, seedPaths.kubeletCert, seedPaths.kubeletKey, seedPaths.etcdCa, seedPaths.etcdClientCert, seedPaths.etcdClientKey];

export function renderSeedCredentialFiles(credentials: ClusterCredentials, hostName: string): { kubelet: RenderedFile[]; flannel: RenderedFile[] } {
  const kubelet = credentials.kubelet[hostName];
  if (!kubelet) {
    throw new InputError(`render: no kubelet certificate for host ${hostName}`, {
      hint: 'issue the kubelet certificate (kubewright pki issue) before rendering with credentials',
    });
  }
  const flannel: RenderedFile[] = [pub(seedPaths.etcdCa, credentials.etcdCaPem ?? credentials.caPem)];
  if (credentials.etcdClient) {
    flannel.push(pub(seedPaths.etcdClientCert, credentials.etcdClient.certPem), secret(seedPaths.etcdClientKey, credentials.etcdClient.keyPem));
  }
  return {
    kubelet: [pub(seedPaths.kubeCa, credentials.caPem), pub(seedPaths.kubeletCert, kubelet.certPem), secret(seedPaths.kubeletKey, kubelet.keyPem)],
    flannel,
  };
}

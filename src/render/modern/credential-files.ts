// The certificate files a modern worker gets when the PKI material is at hand: the cluster CA,
// the node's own kubelet certificate (client as system:node:<name>, and the kubelet's HTTPS server),
// kube-proxy's certificate, and flannel's etcd CA and client pair. Private keys are secret, 0600.
import { KubewrightError, ExitCode } from '../../errors.ts';
import type { RenderedFile } from '../types.ts';
import type { ClusterCredentials } from '../../spec/credentials.ts';
import { modernPaths } from './paths.ts';

const pub = (path: string, contents: string): RenderedFile => ({ path, mode: 0o644, contents });
const secret = (path: string, contents: string): RenderedFile => ({ path, mode: 0o600, contents, secret: true });

export interface ModernCredentialFiles {
  kubelet: RenderedFile[];
  kubeProxy: RenderedFile[];
  flannel: RenderedFile[];
}

/** Every path the credential files go to, whether or not a render has them */
export const modernCredentialPaths: readonly string[] = [
  modernPaths.kubeCa, modernPaths.kubeletCert, modernPaths.kubeletKey, modernPaths.kubeProxyCert, modernPaths.kubeProxyKey,
  modernPaths.etcdCa, modernPaths.etcdClientCert, modernPaths.etcdClientKey,
];

export function renderModernCredentialFiles(credentials: ClusterCredentials, hostName: string): ModernCredentialFiles {
  const kubelet = credentials.kubelet[hostName];
  if (!kubelet) {
    throw new KubewrightError(`render: no kubelet certificate for host ${hostName}`, {
      exitCode: ExitCode.badInput,
      host: hostName,
      hint: `issue one for system:node:${hostName.toLowerCase()} (kubewright pki issue) before rendering with credentials`,
    });
  }
  const flannel: RenderedFile[] = [pub(modernPaths.etcdCa, credentials.etcdCaPem ?? credentials.caPem)];
  if (credentials.etcdClient) {
    flannel.push(pub(modernPaths.etcdClientCert, credentials.etcdClient.certPem), secret(modernPaths.etcdClientKey, credentials.etcdClient.keyPem));
  }
  const kubeProxy = credentials.kubeProxy
    ? [pub(modernPaths.kubeProxyCert, credentials.kubeProxy.certPem), secret(modernPaths.kubeProxyKey, credentials.kubeProxy.keyPem)]
    : [];
  return {
    kubelet: [pub(modernPaths.kubeCa, credentials.caPem), pub(modernPaths.kubeletCert, kubelet.certPem), secret(modernPaths.kubeletKey, kubelet.keyPem)],
    kubeProxy,
    flannel,
  };
}

// The modern worker's two kubeconfigs. Both reference certificate files by path (never embed
// them), so a renewed certificate changes one file and restarts exactly the units that read it.
import { renderKubeconfig } from '../kubeconfig.ts';
import { modernPaths } from './paths.ts';

/** Per-node identity: user system:node:<name>, the name the Node authorizer and NodeRestriction expect. */
export function renderKubeletKubeconfig(apiServer: string, clusterName: string, nodeName: string): string {
  return renderKubeconfig({
    clusterName,
    server: apiServer,
    user: `system:node:${nodeName}`,
    context: 'default',
    ca: { path: modernPaths.kubeCa },
    client: { certPath: modernPaths.kubeletCert, keyPath: modernPaths.kubeletKey },
  });
}

export function renderKubeProxyKubeconfig(apiServer: string, clusterName: string): string {
  return renderKubeconfig({
    clusterName,
    server: apiServer,
    user: 'system:kube-proxy',
    context: 'default',
    ca: { path: modernPaths.kubeCa },
    client: { certPath: modernPaths.kubeProxyCert, keyPath: modernPaths.kubeProxyKey },
  });
}

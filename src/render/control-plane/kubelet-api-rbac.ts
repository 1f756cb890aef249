// The RBAC that lets kube-apiserver reach the kubelet API (logs, exec, port-forward, metrics):
// a ClusterRole on the nodes/* subresources, bound to the user of the apiserver-kubelet client
// certificate. Its own role rather than a system:masters certificate, so the grant is visible.
import { stringify } from 'yaml';

/** CN of the client certificate kube-apiserver presents to kubelets. */
export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
export const KUBELET_API_ROLE = 'kubewright:apiserver-to-kubelet';
/** Path of the manifest inside the rendered cluster/ folder. */
export const KUBELET_API_RBAC_PATH = 'control-plane/apiserver-to-kubelet.yaml';

export function kubeletApiRbacObjects(): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/managed-by': 'kubewright' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: KUBELET_API_ROLE, labels },
      rules: [{ apiGroups: [''], resources: ['nodes/proxy', 'nodes/stats', 'nodes/log', 'nodes/spec', 'nodes/metrics'], verbs: ['*'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: KUBELET_API_ROLE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBELET_API_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: APISERVER_KUBELET_CLIENT_USER }],
    },
  ];
}

export function renderKubeletApiRbac(): string {
  return kubeletApiRbacObjects().map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

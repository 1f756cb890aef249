// kubeconfig files: certificate paths (as the post writes them) or embedded data.
export interface KubeconfigOptions {
  clusterName: string;
  server: string;
  user: string;
  /** context name; defaults to the user name (the post: context kubelet, user kubelet) */
  context?: string;
  ca: { path: string } | { pem: string };
  client: { certPath: string; keyPath: string } | { certPem: string; keyPem: string };
}

export function renderKubeconfig(_opts: KubeconfigOptions): string {
  return '';
}

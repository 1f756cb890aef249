// /var/lib/kubelet/config.yaml: KubeletConfiguration (kubelet.config.k8s.io/v1beta1). Authentication
// and authorization as kubeadm writes them (no anonymous access; bearer tokens and access checks via
// the API server's webhooks; client certificates signed by the cluster CA), systemd cgroups to match
// containerd, and the node's own certificate for the kubelet's HTTPS server.
import { stringify } from 'yaml';
import type { Cluster } from '../../spec/cluster.ts';
import { configFieldSupported, supportedFields } from '../../spec/matrix.ts';
import { modernPaths } from './paths.ts';

export function renderKubeletConfig(cluster: Cluster): string {
  const k = cluster.kubernetes;
  const config: Record<string, unknown> = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { cacheTTL: '0s', enabled: true },
      x509: { clientCAFile: modernPaths.kubeCa },
    },
    authorization: {
      mode: 'Webhook',
      webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' },
    },
    cgroupDriver: 'systemd',
    clusterDNS: [k.clusterDNS],
    clusterDomain: k.clusterDomain,
  };
  // containerRuntimeEndpoint became a config field in 1.27 (older kubelets get the flag)
  if (configFieldSupported('KubeletConfiguration', 'containerRuntimeEndpoint', k.version)) {
    config['containerRuntimeEndpoint'] = `unix://${modernPaths.containerdSocket}`;
  }
  // DigitalOcean's Ubuntu images run systemd-resolved: /etc/resolv.conf names the 127.0.0.53 stub,
  // which CoreDNS inside a pod would forward to itself (its loop plugin then stops it)
  if (cluster.provider.kind === 'digitalocean') config['resolvConf'] = modernPaths.resolvedResolvConf;
  config['runtimeRequestTimeout'] = '15m';
  config['tlsCertFile'] = modernPaths.kubeletCert;
  config['tlsPrivateKeyFile'] = modernPaths.kubeletKey;
  // every field the matrix knows is written only where the kubelet has it
  return stringify(supportedFields('KubeletConfiguration', k.version, config), { lineWidth: 0, indentSeq: false });
}

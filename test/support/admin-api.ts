// The Kubernetes API test double on loopback with an admin client (O system:masters) from a
// fresh in-memory CA, for tests that drive the API the way an admin does (drain, node removal).
import type { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { adminKubeConfig } from '../../src/verify/kube-client.ts';
import { KubeApiDouble, type KubeApiDoubleOptions } from './kube-api-double.ts';

export interface AdminApi {
  api: KubeApiDouble;
  kubeConfig: KubeConfig;
  close(): Promise<void>;
}

export async function startAdminApi(opts: Partial<KubeApiDoubleOptions> = {}): Promise<AdminApi> {
  const ca = await createCertificateAuthority();
  const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost'] });
  const admin = await issueCertificate(ca, { CN: 'admin', names: [{ O: 'system:masters' }] });
  const api = new KubeApiDouble({ caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, ...opts });
  const url = await api.start();
  return { api, kubeConfig: adminKubeConfig(url, ca.certPem, { certPem: admin.certPem, keyPem: admin.keyPem }), close: () => api.stop() };
}

/** A Node object as a kubelet registers it (Ready, schedulable). */
export function putNode(api: KubeApiDouble, name: string): void {
  api.put('v1', 'nodes', {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() }] },
  });
}

/** A running pod bound to `node`, owned by `owner` (kind/name) when given, as a controller and the scheduler leave it. */
export function putPod(api: KubeApiDouble, pod: { name: string; namespace?: string; node: string; labels?: Record<string, string>; owner?: string; annotations?: Record<string, string>; phase?: string }): void {
  const [kind, ownerName] = (pod.owner ?? '').split('/');
  api.put('v1', 'pods', {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: pod.name, namespace: pod.namespace ?? 'default', labels: pod.labels ?? {}, annotations: pod.annotations ?? {},
      ...(pod.owner ? { ownerReferences: [{ apiVersion: kind === 'DaemonSet' || kind === 'ReplicaSet' ? 'apps/v1' : 'v1', kind, name: ownerName, uid: `uid-${ownerName ?? ''}`, controller: true }] } : {}),
    },
    spec: { nodeName: pod.node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
    status: { phase: pod.phase ?? 'Running' },
  });
}

/** A policy/v1 PodDisruptionBudget over pods labelled app=<app>. */
export function putBudget(api: KubeApiDouble, b: { name: string; namespace?: string; app: string; minAvailable?: number | string; maxUnavailable?: number | string }): void {
  api.put('policy/v1', 'poddisruptionbudgets', {
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
    metadata: { name: b.name, namespace: b.namespace ?? 'default' },
    spec: {
      selector: { matchLabels: { app: b.app } },
      ...(b.minAvailable !== undefined ? { minAvailable: b.minAvailable } : {}),
      ...(b.maxUnavailable !== undefined ? { maxUnavailable: b.maxUnavailable } : {}),
    },
  });
}

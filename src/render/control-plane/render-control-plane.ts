// The control plane's render: one RenderedHost per master and the cluster-wide RBAC manifest
// that lets kube-apiserver reach the kubelets. Pure and deterministic, like renderCluster; the
// rendered hosts are keyed by host name in the order of the masters, like RenderedCluster.hosts.
import { InputError } from '../../errors.ts';
import { assertRenderable } from '../../spec/profile-rules.ts';
import type { RenderedFile, RenderedHost } from '../types.ts';
import type { ControlPlaneRenderInput } from './input.ts';
import { KUBELET_API_RBAC_PATH, renderKubeletApiRbac } from './kubelet-api-rbac.ts';
import { renderControlPlaneHost } from './master-host.ts';

export function renderControlPlane(input: ControlPlaneRenderInput): { hosts: ReadonlyMap<string, RenderedHost>; cluster: RenderedFile[] } {
  assertRenderable(input.cluster);
  if (input.masters.length === 0) throw new InputError('controlPlane: no control-plane hosts to render', { hint: 'set controlPlane.count (1, 3 or 5) or list the control-plane hosts' });
  if (input.etcdServers.length === 0) throw new InputError('controlPlane: no etcd client URLs for kube-apiserver', { hint: 'etcd runs on the control-plane hosts or on etcd.hosts; neither gave an address' });
  const names = new Set<string>();
  for (const m of input.masters) {
    if (names.has(m.name)) throw new InputError(`controlPlane: ${m.name} appears twice`, { hint: 'give every control-plane host its own name' });
    names.add(m.name);
  }
  return {
    hosts: new Map(input.masters.map((m) => [m.name, renderControlPlaneHost(input, m)])),
    cluster: [{ path: KUBELET_API_RBAC_PATH, mode: 0o644, contents: renderKubeletApiRbac() }],
  };
}

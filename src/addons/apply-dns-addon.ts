// The DNS addon: the rendered CoreDNS (modern) or kube-dns (seed) manifests applied to the API
// with server-side apply (field manager `kubewright`). Idempotent: a second apply changes nothing.
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KubewrightError } from '../errors.ts';
import type { RenderedFile } from '../render/types.ts';
import { describeApiError, isNotFound } from '../verify/kube-client.ts';

export const FIELD_MANAGER = 'kubewright';

export interface AppliedObject {
  kind: string;
  namespace: string | undefined;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
}

/** The Kubernetes objects in the rendered YAML manifests (other files, like flannel's JSON, are skipped). */
export function manifestObjects(files: readonly RenderedFile[]): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const f of files.filter((x) => /\.ya?ml$/.test(x.path))) {
    for (const doc of parseAllDocuments(f.contents)) {
      if (doc.errors.length > 0) throw new KubewrightError(`${f.path}: not valid YAML: ${doc.errors[0]?.message ?? ''}`, { hint: 'this is a rendering bug; please report it' });
      const o = doc.toJS() as KubernetesObject | null;
      if (o && typeof o === 'object' && o.kind && o.apiVersion) objects.push(o);
    }
  }
  return objects;
}

/** Applies every object in order (ServiceAccount and RBAC before the Deployment, as rendered). */
export function applyDnsAddon(kc: KubeConfig, manifests: readonly RenderedFile[]): Promise<AppliedObject[]> {
  return applyManifests(kc, manifests, 'DNS addon');
}

/** Applies every object of the rendered manifests in order; `label` names them in errors (e.g. `DNS addon`). */
export async function applyManifests(kc: KubeConfig, manifests: readonly RenderedFile[], label: string): Promise<AppliedObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const results: AppliedObject[] = [];
  for (const obj of manifestObjects(manifests)) {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace;
    const what = `${obj.kind} ${namespace ? `${namespace}/` : ''}${name}`;
    let before: string | undefined;
    try {
      before = (await client.read({ apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', metadata: { name, ...(namespace ? { namespace } : {}) } })).metadata?.resourceVersion;
    } catch (e) {
      if (!isNotFound(e)) throw new KubewrightError(`${label}: reading ${what} failed: ${describeApiError(e)}`, { hint: 'check that the API server is up and the admin certificate is accepted (kubewright verify)' });
    }
    let after: string | undefined;
    try {
      after = (await client.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)).metadata?.resourceVersion;
    } catch (e) {
      // servers before 1.16 (the post's 1.8) have no server-side apply: 415 Unsupported Media Type
      if ((e as { code?: number }).code !== 415) throw new KubewrightError(`${label}: applying ${what} failed: ${describeApiError(e)}`, { hint: 'check the API server log and that the admin certificate is in system:masters' });
      after = await createOrReplace(client, obj, before, what, label);
    }
    results.push({ kind: obj.kind ?? '', namespace, name, action: before === undefined ? 'created' : before === after ? 'unchanged' : 'configured' });
  }
  return results;
}

/** Without server-side apply: create what is missing, replace the rest (the object as rendered wins). */
async function createOrReplace(client: KubernetesObjectApi, obj: KubernetesObject, resourceVersion: string | undefined, what: string, label: string): Promise<string | undefined> {
  try {
    if (resourceVersion === undefined) return (await client.create(obj, undefined, undefined, FIELD_MANAGER)).metadata?.resourceVersion;
    return (await client.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion } }, undefined, undefined, FIELD_MANAGER)).metadata?.resourceVersion;
  } catch (e) {
    throw new KubewrightError(`${label}: ${resourceVersion === undefined ? 'creating' : 'replacing'} ${what} failed: ${describeApiError(e)}`, { hint: 'check the API server log and that the admin certificate may write kube-system' });
  }
}

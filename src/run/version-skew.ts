// The version skew check plan and apply run before touching a host: the kubelet the spec installs
// against the API server's /version, by the rule in spec/matrix.ts (kubeletSkewProblem). An API
// server kubewright cannot reach (or no admin certificate yet: before the first `up`) skips the
// check with a note; a kubelet the policy does not allow is refused (exit 2) before any change.
import type { KubeConfig } from '@kubernetes/client-node';
import { InputError, isKubewrightError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import { kubeletMaxMinorsBehind, kubeletSkewProblem } from '../spec/matrix.ts';
import { formatKubeVersion, parseKubeVersion, type KubeVersion } from '../spec/version.ts';
import { describeApiError, getRaw } from '../verify/kube-client.ts';

export const SKEW_POLICY_URL = 'https://kubernetes.io/releases/version-skew-policy/#kubelet';

export interface ApiServerProbe {
  /** the API server answered /version: its gitVersion, and the kubeconfig that reached it */
  reachable?: { gitVersion: string; kubeConfig: KubeConfig } | undefined;
  /** why the check was skipped (for people) */
  note?: string | undefined;
}

/**
 * Asks the API server for its version and refuses a kubelet `kubeletVersion` (resolved, e.g.
 * 1.36.2; the spec's minor when unresolved) the skew policy does not allow.
 */
export async function checkKubeletSkew(cluster: Cluster, kubeletVersion: string | undefined, kubeConfig: () => Promise<KubeConfig>, timeoutMs = 5000): Promise<ApiServerProbe> {
  const server = cluster.kubernetes.apiServer;
  let kc: KubeConfig;
  try {
    kc = await kubeConfig();
  } catch (e) {
    if (!isKubewrightError(e)) throw e;
    return { note: `version skew not checked and Nodes not waited for: no credentials for the API server (${e.message.split('\n')[0]})` };
  }
  let gitVersion: string | undefined;
  try {
    const r = await getRaw(kc, '/version', timeoutMs);
    if (r.status === 200) gitVersion = (JSON.parse(r.body) as { gitVersion?: unknown }).gitVersion as string | undefined;
    if (typeof gitVersion !== 'string') return { note: `version skew not checked and Nodes not waited for: ${server}/version answered HTTP ${r.status} without a gitVersion` };
  } catch (e) {
    return { note: `version skew not checked and Nodes not waited for: the API server at ${server} is not reachable (${describeApiError(e)})` };
  }
  const api = parseKubeVersion(gitVersion.replace(/\+.*$/, ''));
  const kubelet: KubeVersion = (kubeletVersion && parseKubeVersion(kubeletVersion)) || cluster.kubernetes.version;
  if (!api) return { note: `version skew not checked: the API server reports version ${gitVersion}, which kubewright cannot read`, reachable: { gitVersion, kubeConfig: kc } };
  const problem = kubeletSkewProblem(api, kubelet);
  if (problem) {
    const oldest = Math.max(0, api.minor - kubeletMaxMinorsBehind(api));
    throw new InputError(`kubernetes.version: kubelet ${formatKubeVersion(kubelet)} cannot join the API server at ${server}, which runs ${gitVersion}: ${problem} (${SKEW_POLICY_URL})`, {
      hint: `upgrade the control plane first, or set kubernetes.version in ${cluster.sourceFile} to a minor from ${api.major}.${oldest} to ${api.major}.${api.minor}`,
    });
  }
  return { reachable: { gitVersion, kubeConfig: kc } };
}

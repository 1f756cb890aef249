// `kubewright up`: the post's whole journey — provider → PKI → (with a controlPlane section) the
// etcd cluster and the API servers → flannel config in etcd → apply phases → DNS addon → (with
// prune) drain and remove the hosts that left the spec → verify, each step an UpPhase (up/up-phase.ts). Every step is idempotent,
// so re-running after a failure continues from the current state. The result records what each
// step changed.
import type { KubewrightError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import { adminKubeConfig } from '../verify/kube-client.ts';
import { readAdminCredentials } from '../verify/admin-credentials.ts';
import { readLookupTokenFile } from './lookup-token.ts';
import { requireApiForDrain } from './node-ready.ts';
import { applyHosts } from './up/apply-hosts.ts';
import { controlPlane } from './up/control-plane.ts';
import { dnsAddon } from './up/dns-addon.ts';
import { etcdCluster } from './up/etcd-cluster.ts';
import { etcdNetwork } from './up/etcd-network.ts';
import { pki } from './up/pki.ts';
import { provision } from './up/provision.ts';
import { removeNodes } from './up/remove-nodes.ts';
import { runUpPhases } from './up/run-up-phases.ts';
import { UpContext, type UpOptions, type UpPhase, type UpResult } from './up/up-phase.ts';
import { verify } from './up/verify.ts';

export type { UpEvent, UpHostSummary, UpOptions, UpPhase, UpResult } from './up/up-phase.ts';

/** In order; each reads what the ones before it produced (UpContext.need). */
export const upPhases: readonly UpPhase[] = [provision, pki, etcdCluster, controlPlane, etcdNetwork, applyHosts, dnsAddon, removeNodes, verify];

export const upSteps: readonly string[] = upPhases.map((p) => p.name);

/** Runs the journey. Returns the result with `failure` set instead of throwing for step failures. */
export async function runUp(cluster: Cluster, opts: UpOptions = {}, phases: readonly UpPhase[] = upPhases): Promise<{ result: UpResult; failure: KubewrightError | undefined }> {
  const result: UpResult = { cluster: cluster.name, profile: cluster.profile, ok: false, hosts: [] };
  // read user input before creating anything, so a bad flag costs no droplet; it is placed as read here
  const lookup = await readLookupTokenFile(cluster, opts.lookupTokenFile, 'apply');
  if (opts.drainBeforeChange) {
    await requireApiForDrain(cluster, async () => {
      const creds = await readAdminCredentials(cluster);
      return adminKubeConfig(cluster.kubernetes.apiServer, creds.caPem, creds.admin);
    });
  }
  const failure = await runUpPhases(phases, new UpContext(cluster, opts, result, lookup.token));
  return { result, failure };
}

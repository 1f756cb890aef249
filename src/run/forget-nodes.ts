// The cluster's side of a reset: the Node objects (Kubernetes API, admin certificate) and the
// nodes' flannel subnet leases (etcd). Best effort: an unreachable API server or etcd, or missing
// credentials, is a warning — the host reset itself does not depend on them.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { flannelLeaseMapper } from '../etcd/flannel-leases.ts';
import { openEtcdStore, type EtcdConnection } from '../etcd/etcd-store.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';
import { nodeName } from '../spec/node-name.ts';
import { describeApiError, isNotFound } from '../verify/kube-client.ts';

export interface ForgetStep {
  /** `delete Node w1.example` / `delete flannel lease /flannel.com/network/subnets/10.200.5.0-24 (w1)` */
  summary: string;
  run(): Promise<string>;
}

export interface ForgetPlan {
  steps: ForgetStep[];
  /** why something could not be looked at (API or etcd unreachable, no credentials) */
  warnings: string[];
}

function reason(e: unknown): string {
  return describeApiError(e).split('\n')[0] ?? String(e);
}

/** Looks up what exists (Nodes, leases) for `hosts`; deletes nothing. */
export async function planForget(
  cluster: Cluster,
  hosts: readonly Host[],
  access: { kubeConfig: () => Promise<KubeConfig>; etcd?: (() => Promise<EtcdConnection>) | undefined },
): Promise<ForgetPlan> {
  const steps: ForgetStep[] = [];
  const warnings: string[] = [];
  try {
    const core = (await access.kubeConfig()).makeApiClient(CoreV1Api);
    for (const h of hosts) {
      const name = nodeName(cluster, h);
      try {
        await core.readNode({ name });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      steps.push({
        summary: `delete Node ${name}`,
        run: async () => {
          try {
            await core.deleteNode({ name });
            return `deleted Node ${name}`;
          } catch (e) {
            if (isNotFound(e)) return `Node ${name} was already gone`;
            throw e;
          }
        },
      });
    }
  } catch (e) {
    warnings.push(`Kubernetes API: Node objects not deleted (${reason(e)}); delete them later with \`kubectl delete node\``);
  }
  if (access.etcd) {
    try {
      const conn = await access.etcd();
      const mapping = await flannelLeaseMapper(cluster, conn)([...hosts]);
      for (const a of mapping.assigned) {
        steps.push({
          summary: `delete flannel lease ${a.lease.key} (${a.host.name}, ${a.lease.subnet})`,
          run: async () => {
            const store = openEtcdStore(cluster.etcd.api, conn);
            try {
              return (await store.delete(a.lease.key)) ? `deleted flannel lease ${a.lease.key}` : `flannel lease ${a.lease.key} was already gone`;
            } finally {
              store.close();
            }
          },
        });
      }
    } catch (e) {
      warnings.push(`etcd: flannel leases not deleted (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); they expire on their own (24h)`);
    }
  }
  return { steps, warnings };
}

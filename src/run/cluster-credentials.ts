// The PKI material apply places on hosts. Apply issues what is missing (never a CA: that is
// `kubewright pki init`); plan only reads, and renders without credentials when something
// would have to be issued first.
import { existsSync } from 'node:fs';
import { ensureClusterPki, planClusterPki } from '../pki/cluster-pki.ts';
import { caFiles, resolvePkiDir } from '../pki/pki-files.ts';
import type { Host } from '../spec/host.ts';
import type { ClusterCredentials } from '../spec/credentials.ts';
import type { Cluster } from '../spec/cluster.ts';

export interface CredentialsResult {
  credentials: ClusterCredentials | undefined;
  /** for people: why there are none, or what plan would issue */
  note: string | undefined;
}

export async function clusterCredentials(cluster: Cluster, hosts: readonly Host[], mode: 'plan' | 'apply'): Promise<CredentialsResult> {
  const dir = resolvePkiDir(cluster);
  if (!existsSync(caFiles(dir).cert)) {
    return { credentials: undefined, note: `no CA in ${dir}: certificates are not placed on hosts (create one with \`kubewright pki init\`)` };
  }
  if (mode === 'plan') {
    const pending = (await planClusterPki(cluster, hosts, { createCa: false })).decisions.filter((d) => d.action !== 'keep');
    if (pending.length > 0) {
      return { credentials: undefined, note: `pki: ${pending.length} certificate(s) to issue first (${pending.map((d) => d.name).join(', ')}); apply issues them — certificate files are left out of this plan` };
    }
  }
  const pki = await ensureClusterPki(cluster, hosts, { createCa: false });
  return { credentials: pki.credentials, note: undefined };
}

// The resolve step: everything render needs that is not in the spec, settled once before render
// runs — the Kubernetes patch release (when the spec names only a minor), the PKI material, the
// etcd-lookup token and the etcd members it lists. Render then returns final output; nothing is patched after it.
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { ArtifactFetchError } from '../artifacts/artifact-errors.ts';
import { resolveKubernetesVersion } from '../artifacts/resolve-kubernetes-version.ts';
import { stableVersionUrl } from '../render/release-binaries.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ClusterCredentials } from '../spec/credentials.ts';
import type { Host } from '../spec/host.ts';
import type { RenderInput } from '../render/types.ts';
import { clusterCredentials } from './cluster-credentials.ts';
import { readLookupTokenFile } from './lookup-token.ts';
import { etcdMembersForNodes } from './etcd-members-for-nodes.ts';

export interface ResolveOptions {
  mode: 'plan' | 'apply';
  /** where stable-<minor>.txt is read from (the mirror, else dl.k8s.io) */
  store: ArtifactStore;
  /** file holding the read-only DigitalOcean token for etcd-lookup (etcd.discovery.digitaloceanTag) */
  lookupTokenFile?: string | undefined;
  /** already settled by the caller: `up` issues the PKI in its own step and reads the token before creating hosts */
  settled?: { credentials?: ClusterCredentials | undefined; lookupToken?: string | undefined } | undefined;
  /** the DigitalOcean API the etcd members are listed from (`up`/`plan --api-url`; else $DIGITALOCEAN_API_URL or the real one) */
  digitalocean?: { apiUrl?: string | undefined; env?: NodeJS.ProcessEnv | undefined } | undefined;
}

export interface ResolvedInputs {
  input: RenderInput;
  /** for people: what was left out and why (plan without a token file, no CA yet, ...) */
  notes: string[];
}

export async function resolveRenderInputs(cluster: Cluster, hosts: Host[], opts: ResolveOptions): Promise<ResolvedInputs> {
  const notes: string[] = [];
  let lookupToken = opts.settled?.lookupToken;
  if (lookupToken === undefined) {
    const lookup = await readLookupTokenFile(cluster, opts.lookupTokenFile, opts.mode);
    if (lookup.note) notes.push(lookup.note);
    lookupToken = lookup.token;
  }
  let credentials = opts.settled?.credentials;
  if (credentials === undefined) {
    const c = await clusterCredentials(cluster, hosts, opts.mode);
    if (c.note) notes.push(c.note);
    credentials = c.credentials;
  }
  let kubernetesVersion: string | undefined;
  try {
    kubernetesVersion = await resolveKubernetesVersion(cluster, opts.store);
  } catch (e) {
    // offline (air-gapped laptop, flaky network): plan still shows every file and unit; the
    // binaries keep their `v1.36.x` placeholder and are marked unresolved. Only apply refuses.
    if (opts.mode !== 'plan' || !(e instanceof ArtifactFetchError)) throw e;
    const v = cluster.kubernetes.version;
    notes.push(`kubernetes ${v.major}.${v.minor}: ${stableVersionUrl(v)} could not be fetched (${e.message}): Kubernetes binaries are shown as "version unresolved (offline)"; apply needs it (or a full version like "${v.major}.${v.minor}.2" in kubernetes.version)`);
  }
  const members = await etcdMembersForNodes(cluster, lookupToken, { apiUrl: opts.digitalocean?.apiUrl, env: opts.digitalocean?.env });
  if (members.note) notes.push(members.note);
  return { input: { cluster, hosts, credentials, kubernetesVersion, lookupToken, etcdMembers: members.members }, notes };
}

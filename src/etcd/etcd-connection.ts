// How kubewright reaches etcd from the operator's machine: the endpoints (discovered from the
// spec, or given), etcd's CA and flannel's client certificate from the PKI directory
// (`kubewright pki`: etcd-ca.pem when etcd has its own CA, else ca.pem; etcd-client.pem + -key.pem).
import { access } from 'node:fs/promises';
import { barePaths, caFiles, etcdCaFiles, resolvePkiDir } from '../pki/pki-files.ts';
import type { Cluster } from '../spec/cluster.ts';
import { discoverEtcdMembers, type EtcdMembers } from './etcd-discovery.ts';
import type { EtcdConnection } from './etcd-store.ts';
import { loadEtcdTls, type EtcdTls } from './etcd-tls.ts';

export interface EtcdAccessOptions {
  /** use these client URLs instead of the spec's discovery */
  endpoints?: string[] | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /**
   * the private IPv4 of the droplets carrying etcd.discovery.digitaloceanTag; the caller supplies it
   * (providers/digitalocean/etcd-endpoints.ts) so that etcd/ never opens a cloud API itself
   */
  listDropletPrivateIps?: ((tag: string) => Promise<string[]>) | undefined;
  /** also ask etcd for its member list */
  memberList?: boolean | undefined;
  timeoutMs?: number | undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The etcd TLS material: explicit files, else the PKI directory's. */
export async function resolveEtcdTls(cluster: Cluster, opts: EtcdAccessOptions): Promise<EtcdTls> {
  const dir = resolvePkiDir(cluster);
  const etcdCa = etcdCaFiles(dir).cert;
  const ca = opts.ca ?? ((await exists(etcdCa)) ? etcdCa : caFiles(dir).cert);
  const client = barePaths(dir, 'etcd-client');
  let cert = opts.cert;
  let key = opts.key;
  if (cert === undefined && key === undefined && (await exists(client.cert)) && (await exists(client.key))) {
    cert = client.cert;
    key = client.key;
  }
  return loadEtcdTls({ ca, cert, key });
}

/** The members: `--endpoints` as given, else the spec's discovery (DO tag, static endpoints). */
export async function resolveEtcdMembers(cluster: Cluster, opts: EtcdAccessOptions, tls?: EtcdTls): Promise<EtcdMembers> {
  const spec: Cluster = opts.endpoints?.length ? { ...cluster, etcd: { ...cluster.etcd, discovery: { endpoints: opts.endpoints } } } : cluster;
  return discoverEtcdMembers(spec, {
    listDropletPrivateIps: opts.listDropletPrivateIps,
    memberList: opts.memberList && tls ? { tls, timeoutMs: opts.timeoutMs } : undefined,
  });
}

export async function resolveEtcdConnection(cluster: Cluster, opts: EtcdAccessOptions): Promise<EtcdConnection> {
  const tls = await resolveEtcdTls(cluster, opts);
  const members = await resolveEtcdMembers(cluster, { ...opts, memberList: false });
  return { endpoints: members.endpoints, tls, timeoutMs: opts.timeoutMs };
}

// The etcd cluster's PKI: per member a peer and a server certificate, and kubewright's own etcd
// client certificate (quorum wait, member API), all signed by etcd's own CA — never the cluster
// CA, whose kubelet certificates would otherwise be etcd clients and peers too. The etcd CA is
// made by `pki init` / `ensureClusterPki` (issue 12); this only issues what is missing or stale.
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { TlsCredential } from '../spec/credentials.ts';
import type { Host } from '../spec/host.ts';
import { ensureBareCertificate } from './bare-certificate.ts';
import type { CertDecision } from './certificate-decision.ts';
import { readCaConfig, readEtcdCa } from './cluster-ca.ts';
import { clusterKeySpec, subjectNames } from './cluster-certificates.ts';
import type { CsrRequest } from './csr-request.ts';
import { barePaths, etcdCaFiles, readOptional, resolvePkiDir } from './pki-files.ts';
import { defaultProfileName, profileNamed } from './signing-profile.ts';

export interface EtcdMemberTls {
  /** presented to and verified against other members on 2380 */
  peer: TlsCredential;
  /** presented to clients on 2379 */
  server: TlsCredential;
}

export interface EtcdClusterCredentials {
  etcdCaPem: string;
  /** by host name */
  members: Record<string, EtcdMemberTls>;
  /** kubewright's own client certificate (CN kubewright) for the quorum wait and the member API */
  client: TlsCredential;
}

export interface EtcdPkiOptions {
  now?: Date | undefined;
  thresholdMs?: number | undefined;
  /** override spec pki.dir (already resolved) */
  dir?: string | undefined;
}

/** A member's SANs: its name, its private address (where peers and clients reach it) and loopback. */
export function etcdMemberSans(member: Host): string[] {
  const address = member.privateAddress ?? member.address;
  return [...new Set([member.name, ...(address ? [address] : []), '127.0.0.1', 'localhost'])];
}

interface Wanted { name: string; request: CsrRequest; use: (c: TlsCredential) => void }

/**
 * Makes the PKI directory hold every etcd certificate the members need (re-issuing only what is
 * missing, stale or lacks a SAN) and returns the PEMs the etcd renderer places on the members.
 */
export async function ensureEtcdClusterPki(cluster: Cluster, members: readonly Host[], opts: EtcdPkiOptions = {}): Promise<{ decisions: CertDecision[]; credentials: EtcdClusterCredentials }> {
  const dir = opts.dir ?? resolvePkiDir(cluster);
  const ca = await readEtcdCa(dir, opts.now);
  if (!ca) {
    throw new InputError(`${etcdCaFiles(dir).cert}: the PKI directory has no etcd CA`, {
      hint: 'kubewright signs etcd\'s peer and server certificates with etcd\'s own CA: create it with `kubewright pki init --new-etcd-ca -f <spec>` (a new PKI directory gets one by itself)',
    });
  }
  const profile = profileNamed(await readCaConfig(dir), defaultProfileName);
  const key = clusterKeySpec(cluster);
  const credentials: EtcdClusterCredentials = { etcdCaPem: ca.certPem, members: {}, client: { certPem: '', keyPem: '' } };
  const wanted: Wanted[] = [];
  for (const m of members) {
    const hosts = etcdMemberSans(m);
    const tls: Partial<EtcdMemberTls> = {};
    wanted.push(
      { name: `etcd/${m.name}/peer`, request: { CN: m.name, hosts, key, names: subjectNames(cluster) }, use: (c) => { tls.peer = c; } },
      { name: `etcd/${m.name}/server`, request: { CN: m.name, hosts, key, names: subjectNames(cluster) }, use: (c) => { tls.server = c; } },
    );
    credentials.members[m.name] = tls as EtcdMemberTls;
  }
  wanted.push({ name: 'etcd/kubewright-client', request: { CN: 'kubewright', key, names: subjectNames(cluster) }, use: (c) => { credentials.client = c; } });
  const decisions = await Promise.all(wanted.map(async (w) => {
    const r = await ensureBareCertificate(w.name, barePaths(dir, w.name), w.request, profile, ca, { now: opts.now, thresholdMs: opts.thresholdMs, write: true });
    if (r.certPem === undefined || r.keyPem === undefined) throw new Error(`ensureEtcdClusterPki: ${w.name} was not issued`);
    w.use({ certPem: r.certPem, keyPem: r.keyPem });
    return r.decision;
  }));
  return { decisions, credentials };
}

/**
 * The etcd members' certificates already in the PKI directory, writing nothing (for `render` and
 * `plan`): undefined without an etcd CA; a member whose peer or server pair is missing is left out.
 */
export async function readEtcdMemberCredentials(cluster: Cluster, members: readonly Host[], opts: { dir?: string | undefined } = {}): Promise<{ etcdCaPem: string; members: Record<string, EtcdMemberTls> } | undefined> {
  const dir = opts.dir ?? resolvePkiDir(cluster);
  const caPem = await readOptional(etcdCaFiles(dir).cert);
  if (caPem === undefined) return undefined;
  const pair = async (name: string): Promise<TlsCredential | undefined> => {
    const p = barePaths(dir, name);
    const [certPem, keyPem] = await Promise.all([readOptional(p.cert), readOptional(p.key)]);
    return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
  };
  const found: Record<string, EtcdMemberTls> = {};
  for (const m of members) {
    const [peer, server] = await Promise.all([pair(`etcd/${m.name}/peer`), pair(`etcd/${m.name}/server`)]);
    if (peer && server) found[m.name] = { peer, server };
  }
  return { etcdCaPem: caPem, members: found };
}

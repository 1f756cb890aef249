// The library entry points for a cluster's PKI: `ensureClusterPki` (create the CA when missing,
// issue what is missing or stale, keep the rest) and `planClusterPki` (the same decisions,
// nothing written). Both return per-certificate decisions that `plan` shows.
import { InputError } from '../errors.ts';
import { controlPlaneHosts, type Host } from '../spec/host.ts';
import type { ClusterCredentials, ControlPlaneCredentials, TlsCredential } from '../spec/credentials.ts';
import { runControlPlanePki } from './control-plane-pki.ts';
import type { Cluster } from '../spec/cluster.ts';
import { ensureBareCertificate, type BareResult } from './bare-certificate.ts';
import { describeCa, type CertificateAuthority } from './certificate-authority.ts';
import { rotationTrust, trustBundle } from './ca-rotation.ts';
import { defaultRenewThresholdMs, expiryOf, type CertDecision } from './certificate-decision.ts';
import { etcdCaKeptDecision, initClusterCa, readCaConfig, readClusterCa, readEtcdCa } from './cluster-ca.ts';
import { desiredCertificates } from './cluster-certificates.ts';
import { barePaths, caFiles, etcdCaFiles, resolvePkiDir, type CertPaths } from './pki-files.ts';
import { defaultProfileName, profileNamed } from './signing-profile.ts';

export type { CertDecision } from './certificate-decision.ts';
export type { CertPaths } from './pki-files.ts';

export interface ClusterPkiOptions {
  now?: Date | undefined;
  /** re-issue certificates expiring within this many ms (default 30 days) */
  thresholdMs?: number | undefined;
  /** create the CA when the PKI directory has none (default true); false makes a missing CA an error */
  createCa?: boolean | undefined;
  /** override spec pki.dir (already resolved) */
  dir?: string | undefined;
}

export interface ClusterPkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  caConfig: string;
  /** set when the PKI directory holds etcd's own CA (etcd-ca.pem), which then signs etcdClient */
  etcdCaCert?: string | undefined;
  /** per host name; the seed profile maps every host to the one shared kubelet certificate */
  kubelet: Record<string, CertPaths>;
  kubeProxy?: CertPaths | undefined;
  etcdClient: CertPaths;
  admin: CertPaths;
}

export interface ClusterPkiPlan {
  decisions: CertDecision[];
  paths: ClusterPkiPaths;
}

export interface ClusterPki extends ClusterPkiPlan {
  credentials: ClusterCredentials;
  /** the admin client certificate (O system:masters) `verify` talks to the API with */
  admin: TlsCredential;
  /** with a controlPlane section: what the masters get (src/render/control-plane/) */
  controlPlane?: ControlPlaneCredentials | undefined;
}

async function run(cluster: Cluster, hosts: readonly Host[], opts: ClusterPkiOptions, write: boolean): Promise<{ plan: ClusterPkiPlan; results: Map<string, BareResult>; ca: CertificateAuthority | undefined; etcdCa: CertificateAuthority | undefined; controlPlane: ControlPlaneCredentials | undefined; trusted: string[] }> {
  const dir = opts.dir ?? resolvePkiDir(cluster);
  const now = opts.now;
  let ca: CertificateAuthority | undefined;
  let caDecision: CertDecision;
  let etcdCa: CertificateAuthority | undefined;
  let etcdDecision: CertDecision;
  const existing = await readClusterCa(dir, now);
  if (existing) {
    ca = existing;
    const expiry = expiryOf(existing.cert.notAfter, now ?? new Date(), opts.thresholdMs ?? defaultRenewThresholdMs);
    // kubewright never replaces a CA on its own: that re-issues everything and needs the masters' trust updated
    const warning = expiry.expiring ? ' — expires soon: rotate it (CA rotation in docs/pki.md), keeping both CAs trusted meanwhile' : '';
    caDecision = { name: 'ca', action: 'keep', reason: `${describeCa(existing)}${warning}`, ...expiry };
    etcdCa = await readEtcdCa(dir, now);
    etcdDecision = etcdCaKeptDecision(etcdCa);
    if (etcdCa) Object.assign(etcdDecision, expiryOf(etcdCa.cert.notAfter, now ?? new Date(), opts.thresholdMs ?? defaultRenewThresholdMs));
  } else if (opts.createCa === false) {
    throw new InputError(`${caFiles(dir).cert}: no CA in the PKI directory`, { hint: 'create one with `kubewright pki init -f <spec>` or import cfssl\'s with --import-ca/--import-ca-key' });
  } else {
    const init = await initClusterCa(cluster, dir, { now, dryRun: !write });
    ca = init.ca;
    caDecision = init.decision;
    etcdCa = init.etcd?.ca;
    etcdDecision = init.etcd?.decision ?? etcdCaKeptDecision(undefined);
  }
  // a CA rotation in progress: its other CA is trusted beside ca.pem (ca-rotation.ts)
  const trust = await rotationTrust(dir, now ?? new Date());
  const profile = profileNamed(await readCaConfig(dir), defaultProfileName);
  const desired = desiredCertificates(cluster, hosts);
  const results = new Map<string, BareResult>();
  await Promise.all(
    desired.map(async (d) => {
      const signer = d.signer === 'etcd' && etcdCa ? etcdCa : ca;
      const r = await ensureBareCertificate(d.name, barePaths(dir, d.name), d.request, profile, signer, { now, thresholdMs: opts.thresholdMs, write });
      results.set(d.name, r);
    }),
  );

  const files = caFiles(dir);
  const kubelet: Record<string, CertPaths> = {};
  const shared = desired.find((d) => d.role === 'kubelet' && d.host === undefined);
  for (const h of hosts) {
    const own = desired.find((d) => d.role === 'kubelet' && d.host === h.name) ?? shared;
    if (own) kubelet[h.name] = barePaths(dir, own.name);
  }
  const paths: ClusterPkiPaths = {
    dir,
    caCert: files.cert,
    caKey: files.key,
    caConfig: files.config,
    etcdCaCert: etcdCa ? etcdCaFiles(dir).cert : undefined,
    kubelet,
    kubeProxy: desired.some((d) => d.role === 'kube-proxy') ? barePaths(dir, 'kube-proxy') : undefined,
    etcdClient: barePaths(dir, 'etcd-client'),
    admin: barePaths(dir, 'admin'),
  };
  const decisions = [caDecision, ...trust.decisions, etcdDecision, ...desired.map((d) => results.get(d.name)?.decision).filter((x): x is CertDecision => x !== undefined)];
  // with a controlPlane section, the API servers' certificates and keys too (the CA is on disk by now when writing)
  const controlPlane = cluster.controlPlane ? await runControlPlanePki(cluster, controlPlaneHosts(hosts), { dir, now, thresholdMs: opts.thresholdMs }, write) : undefined;
  if (controlPlane) decisions.push(...controlPlane.decisions);
  return { plan: { decisions, paths }, results, ca, etcdCa, controlPlane: controlPlane?.credentials, trusted: trust.pems };
}

/** What `ensureClusterPki` would do, per certificate, without writing anything. */
export async function planClusterPki(cluster: Cluster, hosts: readonly Host[], opts: ClusterPkiOptions = {}): Promise<ClusterPkiPlan> {
  return (await run(cluster, hosts, opts, false)).plan;
}

/** ClusterCredentials from whatever the run found or issued; `strict` demands every certificate. */
function credentialsFrom(
  cluster: Cluster,
  hosts: readonly Host[],
  ca: CertificateAuthority,
  etcdCa: CertificateAuthority | undefined,
  results: Map<string, BareResult>,
  strict: boolean,
  trusted: readonly string[],
): ClusterCredentials {
  const credential = (name: string): TlsCredential | undefined => {
    const r = results.get(name);
    if (r?.certPem && r.keyPem) return { certPem: r.certPem, keyPem: r.keyPem };
    if (strict) throw new Error(`ensureClusterPki: ${name} was not issued`);
    return undefined;
  };
  const desired = desiredCertificates(cluster, hosts);
  const shared = desired.find((d) => d.role === 'kubelet' && d.host === undefined);
  const kubelet: Record<string, TlsCredential> = {};
  for (const h of hosts) {
    const own = desired.find((d) => d.role === 'kubelet' && d.host === h.name) ?? shared;
    const c = own ? credential(own.name) : undefined;
    if (c) kubelet[h.name] = c;
  }
  const credentials: ClusterCredentials = { caPem: trustBundle(ca.certPem, trusted), kubelet };
  const etcdClient = credential('etcd-client');
  const admin = credential('admin');
  const kubeProxy = desired.some((d) => d.role === 'kube-proxy') ? credential('kube-proxy') : undefined;
  if (etcdClient) credentials.etcdClient = etcdClient;
  if (admin) credentials.admin = admin;
  if (kubeProxy) credentials.kubeProxy = kubeProxy;
  if (etcdCa) credentials.etcdCaPem = etcdCa.certPem;
  return credentials;
}

/**
 * Makes the PKI directory hold a valid CA and every certificate the cluster needs, re-issuing
 * only what is missing or stale, and returns the PEMs renderers place on hosts.
 */
export async function ensureClusterPki(cluster: Cluster, hosts: readonly Host[], opts: ClusterPkiOptions = {}): Promise<ClusterPki> {
  const { plan, results, ca, etcdCa, controlPlane, trusted } = await run(cluster, hosts, opts, true);
  if (!ca) throw new Error('ensureClusterPki: no CA after init');
  const credentials = credentialsFrom(cluster, hosts, ca, etcdCa, results, true, trusted);
  if (!credentials.admin) throw new Error('ensureClusterPki: admin was not issued');
  if (cluster.controlPlane && !controlPlane) throw new Error('ensureClusterPki: the control plane\'s material is missing after issuing');
  return { ...plan, credentials, admin: credentials.admin, ...(controlPlane ? { controlPlane } : {}) };
}

/**
 * The credentials already in the PKI directory, writing nothing (for `render`/`plan` to embed
 * what exists): undefined when there is no CA yet; certificates not issued yet are left out,
 * and `decisions` says which would be (re-)issued.
 */
export async function readClusterCredentials(cluster: Cluster, hosts: readonly Host[], opts: ClusterPkiOptions = {}): Promise<(ClusterPkiPlan & { credentials: ClusterCredentials; controlPlane?: ControlPlaneCredentials | undefined }) | undefined> {
  const dir = opts.dir ?? resolvePkiDir(cluster);
  if (!(await readClusterCa(dir, opts.now))) return undefined;
  const { plan, results, ca, etcdCa, controlPlane, trusted } = await run(cluster, hosts, { ...opts, dir }, false);
  if (!ca) return undefined;
  return { ...plan, credentials: credentialsFrom(cluster, hosts, ca, etcdCa, results, false, trusted), ...(controlPlane ? { controlPlane } : {}) };
}

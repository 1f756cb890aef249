// The library entry points for the control plane's PKI: `ensureControlPlanePki` (create what is
// missing, re-issue what is stale, keep the rest) and `planControlPlanePki` (the same decisions,
// nothing written). The cluster CA comes first (`ensureClusterPki` or `pki init`); the front-proxy
// CA, the service-account key pair and the encryption key are made here once and kept.
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ControlPlaneCredentials, TlsCredential } from '../spec/credentials.ts';
import type { Host } from '../spec/host.ts';
import { ensureBareCertificate, type BareResult } from './bare-certificate.ts';
import { createCertificateAuthority, describeCa, type CertificateAuthority } from './certificate-authority.ts';
import { expiryOf, type CertDecision } from './certificate-decision.ts';
import { readCaConfig, readCaPair, readClusterCa, readEtcdCa } from './cluster-ca.ts';
import { clusterKeySpec, subjectNames } from './cluster-certificates.ts';
import { controlPlaneCertificates, endpointOfApiServer, type ApiEndpoint, type ControlPlaneCertKey } from './control-plane-certificates.ts';
import { ensureEncryptionKey, ensureServiceAccountKey } from './control-plane-keys.ts';
import { barePaths, caFiles, resolvePkiDir, writeKey, writePublic } from './pki-files.ts';
import { describeKeySpec } from './private-key.ts';
import { defaultProfileName, profileNamed } from './signing-profile.ts';

export interface ControlPlanePkiOptions {
  now?: Date | undefined;
  thresholdMs?: number | undefined;
  /** override spec pki.dir (already resolved) */
  dir?: string | undefined;
  /** the API endpoint (load balancer or single master); default: spec controlPlane.endpoint, else the host of kubernetes.apiServer */
  endpoint?: ApiEndpoint | undefined;
}

export const frontProxyCaFiles = (dir: string): { cert: string; key: string } => ({ cert: join(dir, 'front-proxy-ca.pem'), key: join(dir, 'front-proxy-ca-key.pem') });

/** CN of the CA that signs the front-proxy client (the aggregation layer's requestheader CA), kept apart from the cluster CA as kubeadm does. */
export const frontProxyCaCommonName = 'front-proxy-ca';

async function ensureFrontProxyCa(cluster: Cluster, dir: string, now: Date | undefined, write: boolean): Promise<{ decision: CertDecision; ca: CertificateAuthority | undefined }> {
  const files = frontProxyCaFiles(dir);
  const current = await readCaPair(files, 'put both front-proxy-ca.pem and front-proxy-ca-key.pem in the PKI directory, or neither (a new front-proxy CA is then made)', now);
  if (current) return { decision: { name: 'front-proxy-ca', action: 'keep', reason: describeCa(current), ...expiryOf(current.cert.notAfter, now ?? new Date()) }, ca: current };
  const key = clusterKeySpec(cluster);
  const decision: CertDecision = { name: 'front-proxy-ca', action: 'issue', reason: `no front-proxy CA yet: new ${describeKeySpec(key)} CA for the aggregation layer` };
  if (!write) return { decision, ca: undefined };
  const ca = await createCertificateAuthority({ commonName: frontProxyCaCommonName, names: subjectNames(cluster), key, now });
  await writeKey(files.key, ca.keyPem);
  await writePublic(files.cert, ca.certPem);
  return { decision, ca: { ...ca, certFile: files.cert, keyFile: files.key } };
}

export interface Run {
  decisions: CertDecision[];
  credentials: ControlPlaneCredentials | undefined;
}

/** The decisions and (when complete) the material; `write: false` plans. The cluster CA must exist when writing. */
export async function runControlPlanePki(cluster: Cluster, masters: readonly Host[], opts: ControlPlanePkiOptions, write: boolean): Promise<Run> {
  const dir = opts.dir ?? resolvePkiDir(cluster);
  const now = opts.now;
  const ca = await readClusterCa(dir, now);
  if (!ca && write) {
    throw new InputError(`${caFiles(dir).cert}: no cluster CA in the PKI directory`, { hint: 'create it first: `kubewright pki init -f <spec>` (up does this before the control plane)' });
  }
  const etcdCa = (await readEtcdCa(dir, now)) ?? ca;
  const frontProxy = await ensureFrontProxyCa(cluster, dir, now, write);
  const profile = profileNamed(await readCaConfig(dir), defaultProfileName);
  const wanted = controlPlaneCertificates(cluster, masters, opts.endpoint ?? cluster.controlPlane?.endpoint ?? endpointOfApiServer(cluster.kubernetes.apiServer));
  const signers = { cluster: ca, etcd: etcdCa, 'front-proxy': frontProxy.ca };
  const results = {} as Record<ControlPlaneCertKey, BareResult>;
  await Promise.all(
    (Object.keys(wanted) as ControlPlaneCertKey[]).map(async (k) => {
      const w = wanted[k];
      results[k] = await ensureBareCertificate(w.name, barePaths(dir, w.name), w.request, profile, signers[w.signer], { now, thresholdMs: opts.thresholdMs, write });
    }),
  );
  const serviceAccount = await ensureServiceAccountKey(dir, clusterKeySpec(cluster), write);
  const encryption = await ensureEncryptionKey(dir, write);
  const decisions = [frontProxy.decision, ...Object.values(results).map((r) => r.decision), serviceAccount.decision, encryption.decision];

  const tls = (k: ControlPlaneCertKey): TlsCredential | undefined => {
    const r = results[k];
    return r.certPem !== undefined && r.keyPem !== undefined ? { certPem: r.certPem, keyPem: r.keyPem } : undefined;
  };
  const all = {
    apiserver: tls('apiserver'),
    apiserverKubeletClient: tls('apiserverKubeletClient'),
    apiserverEtcdClient: tls('apiserverEtcdClient'),
    controllerManager: tls('controllerManager'),
    scheduler: tls('scheduler'),
    frontProxyClient: tls('frontProxyClient'),
  };
  // a plan may read certificates a re-issue is about to replace: credentials only when nothing is pending
  const pending = decisions.some((d) => d.action !== 'keep');
  const fp = frontProxy.ca;
  const sa = serviceAccount.value;
  const enc = encryption.value;
  const tlsAll = Object.values(all).every((c) => c !== undefined) ? (all as Record<keyof typeof all, TlsCredential>) : undefined;
  const credentials: ControlPlaneCredentials | undefined = ca && etcdCa && fp && sa && enc && tlsAll && (write || !pending)
    ? { caPem: ca.certPem, caKeyPem: ca.keyPem, etcdCaPem: etcdCa.certPem, frontProxyCaPem: fp.certPem, serviceAccount: sa, encryptionKey: enc, ...tlsAll }
    : undefined;
  return { decisions, credentials };
}

/** What `ensureControlPlanePki` would do, per certificate and key, without writing anything. */
export async function planControlPlanePki(cluster: Cluster, masters: readonly Host[], opts: ControlPlanePkiOptions = {}): Promise<{ decisions: CertDecision[]; credentials: ControlPlaneCredentials | undefined }> {
  return await runControlPlanePki(cluster, masters, opts, false);
}

/**
 * Makes the PKI directory hold every certificate and key the control plane needs (the cluster CA
 * must be there already), and returns the material the control-plane renderer places on masters.
 */
export async function ensureControlPlanePki(cluster: Cluster, masters: readonly Host[], opts: ControlPlanePkiOptions = {}): Promise<{ decisions: CertDecision[]; credentials: ControlPlaneCredentials }> {
  const r = await runControlPlanePki(cluster, masters, opts, true);
  if (!r.credentials) throw new Error('ensureControlPlanePki: material missing after issuing');
  return { decisions: r.decisions, credentials: r.credentials };
}

// The CA in a cluster's PKI directory: create one (`pki init`), import one cfssl made, or load
// the one that is there. An existing CA is kept; replacing it needs `force`.
import { InputError } from '../errors.ts';
import { createCertificateAuthority, describeCa, loadCertificateAuthority, readCertificateAuthority, type CertificateAuthority } from './certificate-authority.ts';
import type { CertDecision } from './certificate-decision.ts';
import { clusterKeySpec, subjectNames } from './cluster-certificates.ts';
import { caFiles, dirMode, etcdCaFiles, readOptional, writeKey, writePublic } from './pki-files.ts';
import { describeKeySpec, type KeySpec } from './private-key.ts';
import { defaultCaConfigJson, parseCaConfig, type CaConfig, defaultCaConfig } from './signing-profile.ts';
import type { Cluster } from '../spec/cluster.ts';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** cfssl-style CA subject CN (`cfssl gencert -initca ca-csr.json` in most tutorials) */
export const caCommonName = 'Kubernetes';

export interface InitCaOptions {
  /** key of a new CA; default: spec pki.algo/size */
  key?: KeySpec | undefined;
  /** import instead of creating: cfssl's ca.pem and ca-key.pem */
  importCert?: string | undefined;
  importKey?: string | undefined;
  /** a cfssl ca-config.json to copy into the PKI directory */
  caConfig?: string | undefined;
  /** validity of a new CA in ms (default 5 years, as cfssl) */
  expiryMs?: number | undefined;
  /** replace a CA that is already there (every certificate is then re-issued) */
  force?: boolean | undefined;
  /** plan only: decide, write nothing */
  dryRun?: boolean | undefined;
  now?: Date | undefined;
  /**
   * etcd's own CA: `auto` (default) creates one beside a cluster CA created now; `new` creates one
   * whenever there is none (moving an older PKI to the separate layout); `none` leaves it alone
   * (an etcd CA is about to be imported)
   */
  etcdCa?: 'auto' | 'new' | 'none' | undefined;
}

export interface InitCaResult {
  decision: CertDecision;
  ca: CertificateAuthority | undefined;
  files: { cert: string; key: string; config: string };
  /** what happened to etcd's CA (absent with etcdCa: 'none') */
  etcd?: { decision: CertDecision; ca: CertificateAuthority | undefined } | undefined;
}

/** CN of the etcd CA kubewright creates: it signs flannel's etcd client certificate, and etcd's serving certificate */
export const etcdCaCommonName = 'etcd-ca';

/** What the PKI's etcd CA is when kubewright creates none: kept, or missing (the older one-CA layout, with its risk named). */
export function etcdCaKeptDecision(current: CertificateAuthority | undefined): CertDecision {
  if (current) return { name: 'etcd-ca', action: 'keep', reason: describeCa(current) };
  return {
    name: 'etcd-ca',
    action: 'keep',
    reason: "none: the cluster CA also signs flannel's etcd client certificate (the one-CA layout), so every kubelet certificate is a valid etcd client too"
      + ' — create etcd\'s own CA with `kubewright pki init --new-etcd-ca` (or import it with --import-etcd-ca), then have etcd trust etcd-ca.pem',
  };
}

/**
 * Creates, imports or keeps the cluster CA in `dir`, writes ca-config.json when missing, and
 * gives etcd a CA of its own when the cluster CA is new (etcd then trusts no kubelet certificate).
 */
export async function initClusterCa(cluster: Cluster, dir: string, opts: InitCaOptions = {}): Promise<InitCaResult> {
  const hadCa = (await readOptional(caFiles(dir).cert)) !== undefined;
  const result = await initMainCa(cluster, dir, opts);
  const mode = opts.etcdCa ?? 'auto';
  if (mode === 'none') return result;
  const current = await readEtcdCa(dir, opts.now);
  const createdNow = !hadCa && result.decision.action === 'issue' && opts.importCert === undefined;
  if (current || (mode === 'auto' && !createdNow)) return { ...result, etcd: { decision: etcdCaKeptDecision(current), ca: current } };
  const key = opts.key ?? clusterKeySpec(cluster);
  const decision: CertDecision = { name: 'etcd-ca', action: 'issue', reason: `no etcd CA yet: new ${describeKeySpec(key)} CA for etcd, separate from the cluster CA` };
  if (opts.dryRun) return { ...result, etcd: { decision, ca: undefined } };
  const files = etcdCaFiles(dir);
  const ca = await createCertificateAuthority({ commonName: etcdCaCommonName, names: subjectNames(cluster), key, expiryMs: opts.expiryMs, now: opts.now });
  await writeKey(files.key, ca.keyPem);
  await writePublic(files.cert, ca.certPem);
  return { ...result, etcd: { decision, ca: { ...ca, certFile: files.cert, keyFile: files.key } } };
}

async function readInput(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { hint: 'check the path given on the command line' });
  }
}

/** Creates, imports or keeps the cluster CA in `dir`, and writes ca-config.json when missing. */
async function initMainCa(cluster: Cluster, dir: string, opts: InitCaOptions): Promise<InitCaResult> {
  const files = caFiles(dir);
  const now = opts.now;
  const [certPem, keyPem] = await Promise.all([readOptional(files.cert), readOptional(files.key)]);
  if ((certPem === undefined) !== (keyPem === undefined)) {
    const missing = certPem === undefined ? files.cert : files.key;
    throw new InputError(`${missing}: missing, but its ${certPem === undefined ? 'key' : 'certificate'} is there`, {
      hint: 'restore the missing file, or remove both and run `kubewright pki init` for a new CA',
    });
  }
  const existing = certPem !== undefined && keyPem !== undefined && !opts.force
    ? loadCertificateAuthority({ certPem, keyPem, certFile: files.cert, keyFile: files.key }, { now })
    : undefined;

  let configText: string | undefined;
  if (opts.caConfig !== undefined) {
    configText = await readInput(opts.caConfig, 'signing config');
    parseCaConfig(configText, opts.caConfig);
  }

  let ca: CertificateAuthority;
  let decision: CertDecision;
  if (opts.importCert !== undefined || opts.importKey !== undefined) {
    if (opts.importCert === undefined || opts.importKey === undefined) {
      throw new InputError('pki init: --import-ca and --import-ca-key go together', { hint: 'pass both the CA certificate (ca.pem) and its key (ca-key.pem)' });
    }
    const imported = await readCertificateAuthority(opts.importCert, opts.importKey, { now });
    if (existing) {
      if (existing.cert.equal(imported.cert)) {
        return await finish({ name: 'ca', action: 'keep', reason: `already imported: ${describeCa(existing)}` }, existing);
      }
      throw new InputError(`${files.cert}: a different CA is already there`, { hint: 'pass --force to replace it (every certificate is then re-issued), or use another pki.dir' });
    }
    ca = imported;
    decision = { name: 'ca', action: certPem === undefined ? 'issue' : 'reissue', reason: `import ${imported.cert.subject} (${describeKeySpec(imported.key.spec)}) from ${opts.importCert}` };
  } else if (existing) {
    const wantKey = opts.key;
    const note = wantKey && describeKeySpec(wantKey) !== describeKeySpec(existing.key.spec) ? ` — it is ${describeKeySpec(existing.key.spec)}; pass --force to replace it with ${describeKeySpec(wantKey)}` : '';
    return await finish({ name: 'ca', action: 'keep', reason: `${describeCa(existing)}${note}` }, existing);
  } else {
    const key = opts.key ?? clusterKeySpec(cluster);
    decision = { name: 'ca', action: certPem === undefined ? 'issue' : 'reissue', reason: certPem === undefined ? `no CA yet: new ${describeKeySpec(key)} CA` : `replace the CA (--force) with a new ${describeKeySpec(key)} CA` };
    if (opts.dryRun) return { decision, ca: undefined, files };
    ca = await createCertificateAuthority({ commonName: caCommonName, names: subjectNames(cluster), key, expiryMs: opts.expiryMs, now });
  }
  if (opts.dryRun) return { decision, ca, files };
  if (certPem !== undefined && keyPem !== undefined) {
    // --force replaces a CA whose certificates may still be trusted somewhere: keep it, never lose it
    const kept = await backupCa(dir, { cert: certPem, key: keyPem }, now);
    decision = { ...decision, reason: `${decision.reason}; the old CA is kept in ${kept}` };
  }
  await writeKey(files.key, ca.keyPem);
  await writePublic(files.cert, ca.certPem);
  ca = { ...ca, certFile: files.cert, keyFile: files.key };
  return await finish(decision, ca);

  async function finish(d: CertDecision, c: CertificateAuthority): Promise<InitCaResult> {
    if (!opts.dryRun) {
      const current = await readOptional(files.config);
      const wanted = configText ?? (current === undefined ? defaultCaConfigJson : undefined);
      if (wanted !== undefined && wanted !== current) await writePublic(files.config, wanted);
    }
    return { decision: d, ca: c, files };
  }
}

/**
 * Copies a CA pair about to be replaced into `<dir>/backup/<UTC time>/` (key 0600, directories
 * 0700), with `prefix` naming the files (`ca` or `etcd-ca`); returns the folder.
 */
export async function backupCa(dir: string, pems: { cert: string; key: string }, now: Date | undefined, prefix = 'ca'): Promise<string> {
  const stamp = (now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  await mkdir(join(dir, 'backup'), { recursive: true, mode: dirMode });
  for (let i = 0; ; i++) {
    const folder = join(dir, 'backup', i === 0 ? stamp : `${stamp}.${i}`);
    try {
      await mkdir(folder, { mode: dirMode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    await writeKey(join(folder, `${prefix}-key.pem`), pems.key);
    await writePublic(join(folder, `${prefix}.pem`), pems.cert);
    return folder;
  }
}

/** A CA pair from its two files, checked; undefined when neither exists, an error naming the missing one when only one does. */
export async function readCaPair(files: { cert: string; key: string }, hint: string, now: Date | undefined): Promise<CertificateAuthority | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(files.cert), readOptional(files.key)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    throw new InputError(`${certPem === undefined ? files.cert : files.key}: missing, but its ${certPem === undefined ? 'key' : 'certificate'} is there`, { hint });
  }
  return loadCertificateAuthority({ certPem, keyPem, certFile: files.cert, keyFile: files.key }, { now });
}

/** The CA that is in `dir`, checked; undefined when there is none yet. */
export function readClusterCa(dir: string, now?: Date): Promise<CertificateAuthority | undefined> {
  return readCaPair(caFiles(dir), 'restore the missing file, or remove both and run `kubewright pki init` for a new CA', now);
}

/** etcd's own CA when the PKI directory holds one (etcd-ca.pem + etcd-ca-key.pem), for flannel's client certificate. */
export function readEtcdCa(dir: string, now?: Date): Promise<CertificateAuthority | undefined> {
  return readCaPair(
    etcdCaFiles(dir),
    "kubewright signs flannel's etcd client certificate with etcd's CA: put both etcd-ca.pem and etcd-ca-key.pem in the PKI directory, or neither",
    now,
  );
}

/** ca-config.json from the PKI directory, or cfssl's usual kubernetes profile when there is none. */
export async function readCaConfig(dir: string): Promise<CaConfig> {
  const file = caFiles(dir).config;
  const text = await readOptional(file);
  return text === undefined ? defaultCaConfig : parseCaConfig(text, file);
}

/**
 * Copies etcd's own CA (the post's etcd-ca.pem, from the master setup) into the PKI directory,
 * so flannel's etcd client certificate is signed by the CA etcd trusts. Kept when identical.
 */
export async function importEtcdCa(dir: string, certFile: string, keyFile: string, opts: { force?: boolean | undefined; now?: Date | undefined } = {}): Promise<CertDecision> {
  const imported = await readCertificateAuthority(certFile, keyFile, { now: opts.now });
  const files = etcdCaFiles(dir);
  const current = await readEtcdCa(dir, opts.now);
  if (current?.cert.equal(imported.cert)) return { name: 'etcd-ca', action: 'keep', reason: `already imported: ${describeCa(current)}` };
  if (current && !opts.force) {
    throw new InputError(`${files.cert}: a different etcd CA is already there`, { hint: 'pass --force to replace it (flannel\'s etcd client certificate is then re-issued)' });
  }
  const kept = current ? `; the old etcd CA is kept in ${await backupCa(dir, { cert: current.certPem, key: current.keyPem }, opts.now, 'etcd-ca')}` : '';
  await writeKey(files.key, imported.keyPem);
  await writePublic(files.cert, imported.certPem);
  return { name: 'etcd-ca', action: current ? 'reissue' : 'issue', reason: `import ${imported.cert.subject} (${describeKeySpec(imported.key.spec)}) from ${certFile}${kept}` };
}

// Test fixture for verify: a spec on loopback, kubewright's real PKI for it, the Kubernetes API
// test double serving with a certificate from that CA, and stand-in kubelets (test doubles) as
// local processes, each with its own kubeconfig and certificate files.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { readClusterCa } from '../../src/pki/cluster-ca.ts';
import { ensureClusterPki, type ClusterPki } from '../../src/pki/cluster-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import type { Host } from '../../src/spec/host.ts';
import { renderKubeconfig } from '../../src/render/kubeconfig.ts';
import type { TlsCredential } from '../../src/spec/credentials.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { KubeApiDouble, type KubeApiDoubleOptions } from '../support/kube-api-double.ts';
import { freePort } from '../support/free-port.ts';
import { heartbeatStaleAfterMs } from '../support/heartbeat-margin.ts';


export const standInKubelet = join(import.meta.dirname, '../support/stand-in-kubelet.sh');

export interface VerifyFixture {
  dir: string;
  specFile: string;
  cluster: Cluster;
  hosts: Host[];
  pki: ClusterPki;
  api: KubeApiDouble;
  kubelets: Map<string, ChildProcess>;
  /** writes a kubeconfig + cert files for a kubelet and starts it; returns its stderr collector */
  startKubelet(name: string, cred: TlsCredential, opts?: { caPem?: string; version?: string }): { stderr: string[] };
  stopKubelet(name: string): Promise<void>;
  /** a spec file like the fixture's with these static host names */
  specWithHosts(names: string[]): Promise<string>;
  close(): Promise<void>;
}

function specText(opts: { name: string; port: number; hosts: string[]; profile: 'modern' | 'seed'; version: string; etcdEndpoints?: string[] | undefined }): string {
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ${opts.name} }
profile: ${opts.profile}
kubernetes:
  version: "${opts.version}"
  apiServer: https://127.0.0.1:${opts.port}
  clusterDNS: 10.32.0.10
provider:
  static:
    hosts:
${opts.hosts.map((h, i) => `      - { name: ${h}, address: 127.0.0.${20 + i} }`).join('\n')}
pki: { dir: ./pki }
${opts.etcdEndpoints ? `etcd: { discovery: { endpoints: ${JSON.stringify(opts.etcdEndpoints)} } }\n` : ''}`;
}

export async function startVerifyFixture(opts: { profile?: 'modern' | 'seed'; version?: string; api?: Partial<KubeApiDoubleOptions>; hosts?: string[]; etcdEndpoints?: string[] } = {}): Promise<VerifyFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-verify-'));
  const port = await freePort();
  const profile = opts.profile ?? 'modern';
  const version = opts.version ?? '1.36.2';
  const names = opts.hosts ?? ['w0', 'w1', 'w2'];
  const specFile = join(dir, 'cluster.yaml');
  const spec = (hosts: string[]): string => specText({ name: 'vt', port, hosts, profile, version, etcdEndpoints: opts.etcdEndpoints });
  await writeFile(specFile, spec(names));
  const cluster = parseCluster(await readFile(specFile, 'utf8'), specFile);
  const hosts = plannedHosts(cluster);
  const pki = await ensureClusterPki(cluster, hosts);
  const ca = await readClusterCa(pki.paths.dir);
  if (!ca) throw new Error('fixture: no CA');
  const serving = await issueCertificate(ca, { CN: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost'] });
  const api = new KubeApiDouble({ caPem: pki.credentials.caPem, certPem: serving.certPem, keyPem: serving.keyPem, port, staleAfterMs: heartbeatStaleAfterMs, gitVersion: `v${version}`, componentStatuses: profile === 'seed', authorization: profile === 'seed' ? 'any' : 'node', ...opts.api });
  await api.start();
  const kubelets = new Map<string, ChildProcess>();

  const fixture: VerifyFixture = {
    dir, specFile, cluster, hosts, pki, api, kubelets,
    startKubelet(name, cred, o = {}) {
      const d = join(dir, 'kubelets', name);
      const stderr: string[] = [];
      const files = { ca: join(d, 'ca.pem'), cert: join(d, 'kubelet.pem'), key: join(d, 'kubelet-key.pem'), kubeconfig: join(d, 'kubeconfig') };
      const ready = (async () => {
        await mkdir(d, { recursive: true });
        await writeFile(files.ca, o.caPem ?? pki.credentials.caPem);
        await writeFile(files.cert, cred.certPem);
        await writeFile(files.key, cred.keyPem, { mode: 0o600 });
        await writeFile(files.kubeconfig, renderKubeconfig({ clusterName: 'vt', server: `https://127.0.0.1:${port}`, user: 'kubelet', ca: { path: files.ca }, client: { certPath: files.cert, keyPath: files.key } }));
      })();
      void ready.then(() => {
        const p = spawn('sh', [standInKubelet, '--kubeconfig', files.kubeconfig, '--node-name', name, '--kubelet-version', o.version ?? `v${version}`, '--interval', '1', '--max-beats', '600'], { stdio: ['ignore', 'ignore', 'pipe'] });
        p.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
        kubelets.set(name, p);
      });
      return { stderr };
    },
    async stopKubelet(name) {
      const p = kubelets.get(name);
      kubelets.delete(name);
      if (!p || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
    async specWithHosts(hostNames) {
      const f = join(dir, `cluster-${hostNames.join('-')}.yaml`);
      await writeFile(f, spec(hostNames));
      return f;
    },
    async close() {
      for (const name of [...kubelets.keys()]) await fixture.stopKubelet(name);
      await api.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A client certificate from a CA the API does not trust (the "wrong cert" case). */
export async function foreignCredential(cn: string): Promise<TlsCredential> {
  const other = await createCertificateAuthority({ commonName: 'not-the-cluster-ca' });
  const c = await issueCertificate(other, { CN: cn, names: [{ O: 'system:nodes' }] });
  return { certPem: c.certPem, keyPem: c.keyPem };
}

/** Polls `check` every 200 ms until it returns true, at most `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

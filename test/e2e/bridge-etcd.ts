// A real etcd (Debian etcd-server 3.4) for the lab end-to-end test: one member serving TLS with
// client-certificate auth on the lab bridge's host address (the machines reach it there) and on
// 127.0.0.1, with a serving certificate signed by the etcd CA that `kubewright pki init` made,
// so flanneld's rendered etcd-client certificate is accepted. stop() kills it and removes its dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import type { SigningProfile } from '../../src/pki/signing-profile.ts';
import { freePort } from '../support/free-port.ts';
import { etcdHealthy } from '../support/etcd-cluster.ts';

export interface BridgeEtcd {
  /** https://<bridge address>:<port> — what the spec's etcd.discovery.endpoints names */
  endpoint: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

const serverProfile: SigningProfile = { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiryMs: 24 * 3_600_000 };

/** `client`: a certificate of the same CA to probe /health with (e.g. the admin's). */
export async function startBridgeEtcd(bridgeAddress: string, port: number, ca: CertificateAuthority, caPem: string, client: { cert: string; key: string }): Promise<BridgeEtcd> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-e2e-etcd-'));
  let proc: ChildProcess | undefined;
  const killOnExit = (): void => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    const p = proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const server = await issueCertificate(ca, { CN: 'etcd-server', hosts: [bridgeAddress, '127.0.0.1', 'localhost'] }, serverProfile);
    const f = (n: string): string => join(dir, n);
    await writeFile(f('ca.pem'), caPem);
    await writeFile(f('server.pem'), server.certPem);
    await writeFile(f('server-key.pem'), server.keyPem, { mode: 0o600 });
    const peer = await freePort();
    const endpoint = `https://${bridgeAddress}:${port}`;
    const fd = openSync(f('etcd.log'), 'a');
    proc = spawn('etcd', [
      '--name', 'e2e',
      '--data-dir', f('data'),
      '--logger=zap',
      '--listen-client-urls', `${endpoint},https://127.0.0.1:${port}`,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `e2e=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new',
      '--cert-file', f('server.pem'),
      '--key-file', f('server-key.pem'),
      '--client-cert-auth',
      '--trusted-ca-file', f('ca.pem'),
    ], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const tls = { ca: caPem, cert: client.cert, key: client.key };
    for (let attempt = 0; attempt < 150; attempt++) {
      if (await etcdHealthy(endpoint, tls)) return { endpoint, log: () => readFile(f('etcd.log'), 'utf8'), stop };
      if (proc.exitCode !== null) throw new Error(`test etcd exited (${proc.exitCode}): ${await readFile(f('etcd.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`test etcd on ${endpoint} not healthy after 15 s: ${await readFile(f('etcd.log'), 'utf8')}`);
  } catch (e) {
    await stop();
    throw e;
  }
}

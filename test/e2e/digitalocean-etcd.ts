// A real etcd (Debian etcd-server), one member, for the DigitalOcean e2e test: it plays the
// spec's "etcd droplet" (tagged with etcd.discovery.digitaloceanTag in the simulator), so it
// listens on that droplet's private IPv4 — a 127.x loopback address — at 2379, the port the
// DigitalOcean discovery assumes. TLS with client-certificate auth; the serving certificate is
// issued by the etcd CA in pki.dir (etcd-ca.pem, which also signs flannel's etcd-client certificate).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import type { CertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { etcdHealthy } from '../support/etcd-cluster.ts';

export interface E2eEtcd {
  endpoint: string;
  dir: string;
  process: ChildProcess;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function startE2eEtcd(dir: string, address: string, ca: CertificateAuthority, peerPort: number): Promise<E2eEtcd> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const server = await issueCertificate(ca, { CN: 'etcd', hosts: [address] });
  const probe = await issueCertificate(ca, { CN: 'e2e-probe' });
  const f = { ca: join(dir, 'ca.pem'), cert: join(dir, 'etcd.pem'), key: join(dir, 'etcd-key.pem') };
  await writeFile(f.ca, ca.certPem);
  await writeFile(f.cert, server.certPem);
  await writeFile(f.key, server.keyPem, { mode: 0o600 });
  const endpoint = `https://${address}:2379`;
  const peer = `http://${address}:${peerPort}`;
  const logFile = join(dir, 'etcd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(
    'etcd',
    [
      '--name', 'e2e', '--data-dir', join(dir, 'data'), '--logger=zap',
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `e2e=${peer}`, '--initial-cluster-state', 'new', '--initial-cluster-token', `kw-e2e-${process.pid}`,
      '--cert-file', f.cert, '--key-file', f.key, '--client-cert-auth', '--trusted-ca-file', f.ca,
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  const tls = { ca: ca.certPem, cert: probe.certPem, key: probe.keyPem };
  for (let i = 0; i < 150; i++) {
    if (await etcdHealthy(endpoint, tls)) return { endpoint, dir, process: child, log: () => readFile(logFile, 'utf8'), stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`e2e etcd on ${endpoint} did not become healthy: ${await readFile(logFile, 'utf8').catch(() => '')}`);
}

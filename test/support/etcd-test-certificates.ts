// Certificates for the test etcd cluster, from kubewright's own PKI (src/pki, cfssl-compatible):
// an etcd CA, etcd's serving certificate (SAN IP:127.0.0.1 + localhost), flannel's client
// certificate (CN flannel, as `kubewright pki` issues it), and a "rogue" CA with a client
// certificate of its own that etcd must reject.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import type { SigningProfile } from '../../src/pki/signing-profile.ts';

export interface TestCertificates {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** a CA etcd does not trust, and a client certificate it signed */
  rogueCaPem: string;
  rogueCertPem: string;
  rogueKeyPem: string;
  files: {
    ca: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    rogueCa: string;
    rogueCert: string;
    rogueKey: string;
  };
}

const hour = 3_600_000;
const serverProfile: SigningProfile = { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiryMs: 24 * hour };
const clientProfile: SigningProfile = { usages: ['signing', 'key encipherment', 'client auth'], expiryMs: 24 * hour };

export async function issueTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, rogueCa] = await Promise.all([
    createCertificateAuthority({ commonName: 'kw-test-etcd-ca', expiryMs: 24 * hour }),
    createCertificateAuthority({ commonName: 'kw-rogue-ca', expiryMs: 24 * hour }),
  ]);
  const [server, client, rogue] = await Promise.all([
    issueCertificate(ca, { CN: 'etcd-server', hosts: ['127.0.0.1', 'localhost'] }, serverProfile),
    issueCertificate(ca, { CN: 'flannel' }, clientProfile),
    issueCertificate(rogueCa, { CN: 'flannel' }, clientProfile),
  ]);
  const f = (n: string): string => join(dir, n);
  const files = {
    ca: f('etcd-ca.pem'), serverCert: f('etcd-server.pem'), serverKey: f('etcd-server-key.pem'),
    clientCert: f('etcd-client.pem'), clientKey: f('etcd-client-key.pem'),
    rogueCa: f('rogue-ca.pem'), rogueCert: f('rogue-client.pem'), rogueKey: f('rogue-client-key.pem'),
  };
  const writes: [string, string, number][] = [
    [files.ca, ca.certPem, 0o644], [files.serverCert, server.certPem, 0o644], [files.serverKey, server.keyPem, 0o600],
    [files.clientCert, client.certPem, 0o644], [files.clientKey, client.keyPem, 0o600],
    [files.rogueCa, rogueCa.certPem, 0o644], [files.rogueCert, rogue.certPem, 0o644], [files.rogueKey, rogue.keyPem, 0o600],
  ];
  await Promise.all(writes.map(([p, text, mode]) => writeFile(p, text, { mode })));
  return {
    caPem: ca.certPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    rogueCaPem: rogueCa.certPem,
    rogueCertPem: rogue.certPem,
    rogueKeyPem: rogue.keyPem,
    files,
  };
}

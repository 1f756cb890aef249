// A real TLS handshake on loopback: a Node tls server with a kubewright server certificate and a
// client with a kubewright client certificate verify each other against the CA, and both sides
// refuse a peer from another CA.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { before, test } from 'node:test';
import { createCertificateAuthority, type CertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { issueCertificate, type IssuedCertificate } from '../../src/pki/issue-certificate.ts';
import { kubernetesProfile, type SigningProfile } from '../../src/pki/signing-profile.ts';

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let server: IssuedCertificate;
let client: IssuedCertificate;
let strangerClient: IssuedCertificate;

const serverOnly: SigningProfile = { usages: ['signing', 'key encipherment', 'server auth'], expiryMs: 3_600_000 };
const clientOnly: SigningProfile = { usages: ['signing', 'key encipherment', 'client auth'], expiryMs: 3_600_000 };

before(async () => {
  ca = await createCertificateAuthority({ commonName: 'kw-test-ca' });
  otherCa = await createCertificateAuthority({ commonName: 'kw-other-ca' });
  server = await issueCertificate(ca, { CN: 'kube-api-double', hosts: ['127.0.0.1', 'localhost'] }, serverOnly);
  client = await issueCertificate(ca, { CN: 'admin', names: [{ O: 'system:masters' }] }, clientOnly);
  strangerClient = await issueCertificate(otherCa, { CN: 'admin', names: [{ O: 'system:masters' }] }, kubernetesProfile);
});

async function listen(cert: IssuedCertificate, trust: CertificateAuthority): Promise<{ server: Server; port: number; peers: string[]; refused: string[] }> {
  const peers: string[] = [];
  const refused: string[] = [];
  const s = createServer({ cert: cert.certPem, key: cert.keyPem, ca: trust.certPem, requestCert: true, rejectUnauthorized: true }, (sock) => {
    peers.push(String(sock.getPeerCertificate().subject.CN));
    sock.end('hello\n');
  });
  s.on('tlsClientError', (e: NodeJS.ErrnoException) => refused.push(`${e.code ?? ''} ${e.message}`));
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const addr = s.address();
  assert.ok(addr && typeof addr === 'object');
  return { server: s, port: addr.port, peers, refused };
}

/** Connects and reads until the server closes; resolves with the data or the error that ended it. */
function talk(port: number, cert: IssuedCertificate, trust: CertificateAuthority): Promise<{ data: string; error?: Error; authorized: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let authorized = false;
    const sock: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', cert: cert.certPem, key: cert.keyPem, ca: trust.certPem, rejectUnauthorized: true }, () => {
      authorized = sock.authorized;
    });
    sock.setTimeout(10_000, () => sock.destroy(new Error('timed out')));
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('error', (error) => resolve({ data, error, authorized }));
    sock.on('close', () => resolve({ data, authorized }));
  });
}

test('client and server with kubewright certificates complete a mutually authenticated handshake', async () => {
  const srv = await listen(server, ca);
  try {
    const r = await talk(srv.port, client, ca);
    assert.equal(r.error, undefined);
    assert.ok(r.authorized, 'the client verified the server against the CA');
    assert.equal(r.data, 'hello\n');
    assert.deepEqual(srv.peers, ['admin'], 'the server verified the client certificate');
  } finally {
    srv.server.close();
  }
});

test('a client that trusts another CA refuses the server', async () => {
  const srv = await listen(server, ca);
  try {
    const r = await talk(srv.port, client, otherCa);
    assert.ok(r.error, 'handshake must fail');
    assert.match(String((r.error as NodeJS.ErrnoException).code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    assert.deepEqual(srv.peers, []);
  } finally {
    srv.server.close();
  }
});

test('the server refuses a client certificate from another CA', async () => {
  const srv = await listen(server, ca);
  try {
    const r = await talk(srv.port, strangerClient, ca);
    assert.equal(r.data, '', 'the server must not talk to it');
    assert.deepEqual(srv.peers, []);
    // with TLS 1.3 the client sees only a closed socket; the server reports the refused handshake
    for (let i = 0; i < 250 && srv.refused.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(srv.refused.length, 1);
  } finally {
    srv.server.close();
  }
});

test('a client-only certificate cannot serve TLS to a verifying client', async () => {
  const srv = await listen(client, ca);
  try {
    const r = await talk(srv.port, client, ca);
    assert.ok(r.error, 'a certificate without server auth must be refused as a server');
  } finally {
    srv.server.close();
  }
});

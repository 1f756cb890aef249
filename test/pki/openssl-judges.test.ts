// openssl as the judge of what kubewright issues: chains verify, subjects/SANs/usages/validity
// read back as intended, keys pass `openssl ec -check` / `openssl rsa -check`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureClusterPki, type ClusterPki } from '../../src/pki/cluster-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { modernSpec, tool, workspace, type Workspace } from './pki-workspace.ts';

let ws: Workspace;
let pki: ClusterPki;

before(async () => {
  ws = await workspace('openssl');
  const cluster = await ws.writeSpec(modernSpec());
  pki = await ensureClusterPki(cluster, plannedHosts(cluster));
});
after(() => ws.cleanup());

function text(file: string): string {
  const r = tool('openssl', ['x509', '-noout', '-text', '-in', file]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function allCerts(): [string, string][] {
  const p = pki.paths;
  return [
    ['w1 kubelet', p.kubelet['w1']?.cert ?? ''],
    ['w2 kubelet', p.kubelet['w2']?.cert ?? ''],
    ['kube-proxy', p.kubeProxy?.cert ?? ''],
    ['etcd-client', p.etcdClient.cert],
    ['admin', p.admin.cert],
  ];
}

test('openssl verify accepts every issued certificate against its CA: ca.pem, and etcd-ca.pem for the etcd client', () => {
  for (const [what, file] of allCerts()) {
    const ca = what === 'etcd-client' ? pki.paths.etcdCaCert ?? '' : pki.paths.caCert;
    const r = tool('openssl', ['verify', '-CAfile', ca, file]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    assert.match(r.stdout, /: OK$/m);
  }
});

test('with a separate etcd CA (the default) no kubelet certificate is a valid etcd client', () => {
  assert.ok(pki.paths.etcdCaCert, 'a new PKI has etcd-ca.pem');
  for (const [what, file] of allCerts().filter(([w]) => w !== 'etcd-client')) {
    const r = tool('openssl', ['verify', '-CAfile', pki.paths.etcdCaCert ?? '', file]);
    assert.notEqual(r.code, 0, `${what} must not verify against etcd's CA`);
  }
});

test('the CA is a P-256 CA:TRUE certificate with cert sign and CRL sign, valid for 5 years', () => {
  const t = text(pki.paths.caCert);
  assert.match(t, /Subject: C = DE, ST = Wesel, L = NW, CN = Kubernetes/);
  assert.match(t, /NIST CURVE: P-256/);
  assert.match(t, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(t, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  const from = /Not Before: (.+)/.exec(t)?.[1] ?? '';
  const to = /Not After : (.+)/.exec(t)?.[1] ?? '';
  const years = (Date.parse(to) - Date.parse(from)) / (365.25 * 86_400_000);
  assert.ok(Math.abs(years - 5) < 0.01, `CA validity ${years} years`);
});

test('each node kubelet certificate names the node and carries its name and both IPs as SANs', () => {
  const t = text(pki.paths.kubelet['w1']?.cert ?? '');
  assert.match(t, /Subject: C = DE, ST = Wesel, L = NW, O = system:nodes, CN = system:node:w1/);
  assert.match(t, /DNS:w1, IP Address:203\.0\.113\.10, IP Address:10\.0\.0\.10\n/);
  assert.match(t, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
  assert.match(t, /Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(t, /CA:FALSE/);
  const from = Date.parse(/Not Before: (.+)/.exec(t)?.[1] ?? '');
  const to = Date.parse(/Not After : (.+)/.exec(t)?.[1] ?? '');
  assert.equal(to - from, 8760 * 3_600_000, 'the kubernetes profile: 8760h');
  assert.doesNotMatch(text(pki.paths.kubelet['w2']?.cert ?? ''), /203\.0\.113\.10/, 'w2 does not carry w1\'s address');
});

test('kube-proxy, admin and flannel client certificates carry the identities Kubernetes and etcd expect', () => {
  assert.match(text(pki.paths.kubeProxy?.cert ?? ''), /Subject: .*O = system:node-proxier, CN = system:kube-proxy\n/);
  assert.match(text(pki.paths.admin.cert), /Subject: .*O = system:masters, CN = admin\n/);
  assert.match(text(pki.paths.etcdClient.cert), /Subject: C = DE, ST = Wesel, L = NW, CN = flannel\n/);
});

test('openssl ec -check passes on every key and the keys are cfssl-style SEC1 files', () => {
  for (const [what, file] of allCerts()) {
    const key = file.replace(/\.pem$/, '-key.pem');
    const r = tool('openssl', ['ec', '-check', '-noout', '-in', key]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /EC Key valid/);
  }
  assert.match(pki.credentials.admin?.keyPem ?? '', /^-----BEGIN EC PRIVATE KEY-----/);
});

test('the CSR files are valid, self-signed PKCS#10 requests with the same subject', () => {
  const csr = pki.paths.kubelet['w1']?.csr ?? '';
  const r = tool('openssl', ['req', '-noout', '-verify', '-subject', '-in', csr]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /subject=C = DE, ST = Wesel, L = NW, O = system:nodes, CN = system:node:w1/);
});

test('credentials hand the renderers one kubelet certificate per node plus the CA', () => {
  assert.deepEqual(Object.keys(pki.credentials.kubelet).sort(), ['w1', 'w2']);
  assert.notEqual(pki.credentials.kubelet['w1']?.certPem, pki.credentials.kubelet['w2']?.certPem);
  assert.match(pki.credentials.caPem, /^-----BEGIN CERTIFICATE-----/);
  assert.ok(pki.credentials.kubeProxy && pki.credentials.etcdClient);
});

test('an RSA spec gives RSA keys that openssl rsa -check accepts, signed with sha256WithRSA', async () => {
  const rsa = await workspace('openssl-rsa');
  try {
    const cluster = await rsa.writeSpec(modernSpec([{ name: 'r1', address: '198.51.100.7' }], 'pki: { dir: ./pki, algo: rsa, size: 2048 }'));
    const r = await ensureClusterPki(cluster, plannedHosts(cluster));
    const cert = r.paths.kubelet['r1']?.cert ?? '';
    const t = text(cert);
    assert.match(t, /Public-Key: \(2048 bit\)/);
    assert.match(t, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(r.credentials.kubelet['r1']?.keyPem ?? '', /^-----BEGIN RSA PRIVATE KEY-----/);
    const check = tool('openssl', ['rsa', '-check', '-noout', '-in', r.paths.kubelet['r1']?.key ?? '']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /RSA key ok/);
    assert.equal(tool('openssl', ['verify', '-CAfile', r.paths.caCert, cert]).code, 0);
  } finally {
    await rsa.cleanup();
  }
});

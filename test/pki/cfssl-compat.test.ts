// cfssl (Debian golang-cfssl) as the judge: a CA made by `cfssl gencert -initca` is imported and
// used, cfssl reads what kubewright issues, and the post's kubelet.json gives kubewright the
// same certificate (subject, SANs, key type, usages) that cfssl gives.
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureClusterPki } from '../../src/pki/cluster-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { runCli } from '../helpers/run-cli.ts';
import { modernSpec, tool, workspace, type Workspace } from './pki-workspace.ts';

let ws: Workspace;
let root: string;

// the post's kubelet.json, {public-domain} = example.com
const kubeletJson = JSON.stringify({ CN: 'kubelet', hosts: ['*.example.com'], key: { algo: 'ecdsa', size: 256 }, names: [{ C: 'DE', L: 'NW', ST: 'Wesel' }] });
const caConfigJson = JSON.stringify({
  signing: { default: { expiry: '8760h' }, profiles: { kubernetes: { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiry: '8760h' } } },
});

function cfssl(cwd: string, args: string[], bare: string): void {
  const gen = tool('cfssl', args, { cwd });
  assert.equal(gen.code, 0, gen.stderr);
  const save = tool('cfssljson', ['-bare', bare], { cwd, input: gen.stdout });
  assert.equal(save.code, 0, save.stderr);
}

before(async () => {
  ws = await workspace('cfssl');
  root = join(ws.dir, 'root');
  await mkdir(root);
  await writeFile(join(root, 'ca-csr.json'), JSON.stringify({ CN: 'Kubernetes', key: { algo: 'ecdsa', size: 256 }, names: [{ C: 'DE', L: 'NW', ST: 'Wesel', O: 'Kubernetes' }] }));
  await writeFile(join(ws.dir, 'ca-config.json'), caConfigJson);
  await writeFile(join(ws.dir, 'kubelet.json'), kubeletJson);
  cfssl(root, ['gencert', '-initca', 'ca-csr.json'], 'ca');
  await ws.writeSpec(modernSpec());
  const init = await runCli('pki', 'init', '-f', ws.spec, '--import-ca', join(root, 'ca.pem'), '--import-ca-key', join(root, 'ca-key.pem'), '--ca-config', join(ws.dir, 'ca-config.json'));
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /issue\s+ca\s+import C=DE, ST=Wesel, L=NW, O=Kubernetes, CN=Kubernetes \(ecdsa-256\)/);
});
after(() => ws.cleanup());

test('a CA made by cfssl gencert -initca is imported as is and signs the cluster certificates', async () => {
  const caKey = await readFile(join(root, 'ca-key.pem'), 'utf8');
  assert.match(caKey, /^-----BEGIN EC PRIVATE KEY-----/, 'cfssl writes SEC1 EC keys');
  assert.equal(await readFile(join(ws.pki, 'ca.pem'), 'utf8'), await readFile(join(root, 'ca.pem'), 'utf8'));
  assert.equal(await readFile(join(ws.pki, 'ca-key.pem'), 'utf8'), caKey, 'the imported key is kept byte for byte');
  assert.equal(await readFile(join(ws.pki, 'ca-config.json'), 'utf8'), caConfigJson);
  const again = await runCli('pki', 'init', '-f', ws.spec, '--import-ca', join(root, 'ca.pem'), '--import-ca-key', join(root, 'ca-key.pem'));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /keep\s+ca\s+already imported/);

  const issue = await runCli('pki', 'issue', '-f', ws.spec);
  assert.equal(issue.code, 0, issue.stderr);
  const v = tool('openssl', ['verify', '-CAfile', join(root, 'ca.pem'), join(ws.pki, 'nodes/w1/kubelet.pem')]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(tool('openssl', ['x509', '-noout', '-issuer', '-in', join(ws.pki, 'admin.pem')]).stdout, /O = Kubernetes, CN = Kubernetes/);
});

test('cfssl certinfo reads a certificate kubewright issued, with its subject and SANs', async () => {
  await runCli('pki', 'issue', '-f', ws.spec);
  const r = tool('cfssl', ['certinfo', '-cert', join(ws.pki, 'nodes/w2/kubelet.pem')]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { subject: { common_name: string; organization: string }; sans: string[] };
  assert.equal(info.subject.common_name, 'system:node:w2');
  assert.equal(info.subject.organization, 'system:nodes');
  assert.deepEqual([...info.sans].sort(), ['10.0.0.11', '203.0.113.11', 'w2']);
});

test('cfssl signs with a CA kubewright created (its SEC1 key and ca-config.json are cfssl-readable)', async () => {
  const own = await workspace('cfssl-own');
  try {
    await own.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'init', '-f', own.spec)).code, 0);
    await writeFile(join(own.dir, 'kubelet.json'), kubeletJson);
    cfssl(own.dir, ['gencert', `-ca=${join(own.pki, 'ca.pem')}`, `-ca-key=${join(own.pki, 'ca-key.pem')}`, `-config=${join(own.pki, 'ca-config.json')}`, '-profile=kubernetes', 'kubelet.json'], 'by-cfssl');
    const v = tool('openssl', ['verify', '-CAfile', join(own.pki, 'ca.pem'), join(own.dir, 'by-cfssl.pem')]);
    assert.equal(v.code, 0, v.stderr);
  } finally {
    await own.cleanup();
  }
});

/** The parts of `openssl x509 -text` that say what a certificate is, not which one it is. */
function essentials(file: string): Record<string, string> {
  const t = tool('openssl', ['x509', '-noout', '-text', '-in', file]).stdout;
  const grab = (re: RegExp): string => (re.exec(t)?.[1] ?? '').trim();
  return {
    subject: grab(/Subject: (.+)/),
    issuer: grab(/Issuer: (.+)/),
    publicKey: grab(/Public-Key: (.+)/),
    curve: grab(/NIST CURVE: (.+)/),
    signature: grab(/Signature Algorithm: (.+)/),
    keyUsage: grab(/X509v3 Key Usage: ?((?:critical)?\s*\n\s*.+)/).replace(/\s+/g, ' '),
    extKeyUsage: grab(/X509v3 Extended Key Usage: ?\s*\n\s*(.+)/),
    basicConstraints: grab(/X509v3 Basic Constraints: ?(?:critical)?\s*\n\s*(.+)/),
    sans: grab(/X509v3 Subject Alternative Name: ?\s*\n\s*(.+)/),
    validityHours: String(
      (Date.parse(grab(/Not After : (.+)/)) - Date.parse(grab(/Not Before: (.+)/))) / 3_600_000,
    ),
  };
}

test("the post's kubelet.json given to kubewright gives the certificate cfssl gives", async () => {
  cfssl(ws.dir, ['gencert', `-ca=${join(root, 'ca.pem')}`, `-ca-key=${join(root, 'ca-key.pem')}`, `-config=${join(ws.dir, 'ca-config.json')}`, '-profile=kubernetes', 'kubelet.json'], 'cfssl-kubelet');
  const r = await runCli('pki', 'issue', '-f', ws.spec, '--csr', join(ws.dir, 'kubelet.json'), '--name', 'kubelet/kubelet');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /issue\s+kubelet\/kubelet/);
  const ours = essentials(join(ws.pki, 'kubelet/kubelet.pem'));
  const theirs = essentials(join(ws.dir, 'cfssl-kubelet.pem'));
  assert.equal(ours.subject, 'C = DE, ST = Wesel, L = NW, CN = kubelet');
  assert.equal(ours.sans, 'DNS:*.example.com');
  assert.equal(ours.keyUsage, 'critical Digital Signature, Key Encipherment');
  assert.equal(ours.extKeyUsage, 'TLS Web Server Authentication, TLS Web Client Authentication');
  assert.equal(ours.curve, 'P-256');
  assert.equal(ours.validityHours, '8760');
  assert.deepEqual(ours, theirs);
  assert.match(await readFile(join(ws.pki, 'kubelet/kubelet-key.pem'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
  assert.equal(tool('openssl', ['req', '-noout', '-verify', '-in', join(ws.pki, 'kubelet/kubelet.csr')]).code, 0);
  const rerun = await runCli('pki', 'issue', '-f', ws.spec, '--csr', join(ws.dir, 'kubelet.json'), '--name', 'kubelet/kubelet');
  assert.match(rerun.stdout, /keep\s+kubelet\/kubelet/);
});

test('a cfssl certificate kubewright finds in its directory is kept, not re-issued', async () => {
  await writeFile(join(ws.dir, 'proxy.json'), JSON.stringify({ CN: 'system:kube-proxy', key: { algo: 'ecdsa', size: 256 }, names: [{ C: 'DE', L: 'NW', ST: 'Wesel', O: 'system:node-proxier' }] }));
  cfssl(ws.pki, ['gencert', `-ca=${join(root, 'ca.pem')}`, `-ca-key=${join(root, 'ca-key.pem')}`, `-config=${join(ws.dir, 'ca-config.json')}`, '-profile=kubernetes', join(ws.dir, 'proxy.json')], 'kube-proxy');
  const before = await readFile(join(ws.pki, 'kube-proxy.pem'), 'utf8');
  const plan = await runCli('pki', 'plan', '-f', ws.spec, '--output', 'json');
  assert.equal(plan.code, 0, plan.stderr);
  const decisions = (JSON.parse(plan.stdout) as { decisions: { name: string; action: string; reason: string }[] }).decisions;
  assert.equal(decisions.find((d) => d.name === 'kube-proxy')?.action, 'keep', JSON.stringify(decisions));
  assert.equal(await readFile(join(ws.pki, 'kube-proxy.pem'), 'utf8'), before);
});

test('a PKCS#8 CA key (as openssl writes it) is accepted on import', async () => {
  const p8 = await workspace('cfssl-pkcs8');
  try {
    await p8.writeSpec(modernSpec());
    const conv = tool('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', join(root, 'ca-key.pem'), '-out', join(p8.dir, 'ca-key-p8.pem')]);
    assert.equal(conv.code, 0, conv.stderr);
    assert.match(await readFile(join(p8.dir, 'ca-key-p8.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const r = await runCli('pki', 'init', '-f', p8.spec, '--import-ca', join(root, 'ca.pem'), '--import-ca-key', join(p8.dir, 'ca-key-p8.pem'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await runCli('pki', 'issue', '-f', p8.spec)).code, 0);
    assert.equal(tool('openssl', ['verify', '-CAfile', join(root, 'ca.pem'), join(p8.pki, 'admin.pem')]).code, 0);
  } finally {
    await p8.cleanup();
  }
});

test("etcd's own cfssl CA, imported, signs flannel's etcd client certificate and reaches the credentials", async () => {
  const e = await workspace('cfssl-etcd');
  try {
    const cluster = await e.writeSpec(modernSpec());
    await writeFile(join(e.dir, 'etcd-ca-csr.json'), JSON.stringify({ CN: 'etcd', key: { algo: 'ecdsa', size: 256 } }));
    cfssl(e.dir, ['gencert', '-initca', 'etcd-ca-csr.json'], 'etcd-ca');
    const r = await runCli('pki', 'init', '-f', e.spec, '--import-etcd-ca', join(e.dir, 'etcd-ca.pem'), '--import-etcd-ca-key', join(e.dir, 'etcd-ca-key.pem'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /issue\s+etcd-ca\s+import CN=etcd/);
    const pki = await ensureClusterPki(cluster, plannedHosts(cluster));
    assert.equal(pki.credentials.etcdCaPem, await readFile(join(e.dir, 'etcd-ca.pem'), 'utf8'));
    assert.equal(tool('openssl', ['verify', '-CAfile', join(e.dir, 'etcd-ca.pem'), pki.paths.etcdClient.cert]).code, 0);
    assert.notEqual(tool('openssl', ['verify', '-CAfile', pki.paths.caCert, pki.paths.etcdClient.cert]).code, 0, 'not signed by the cluster CA');
    assert.equal(tool('openssl', ['verify', '-CAfile', pki.paths.caCert, pki.paths.admin.cert]).code, 0);
  } finally {
    await e.cleanup();
  }
});

// etcd's own CA (issue 12 item 7): a new PKI gets etcd-ca.pem beside ca.pem, so that flannel's
// etcd client certificate comes from a CA that signed no kubelet certificate. A PKI made before
// (ca.pem only, or cfssl's) keeps working as it is and is told what to do; --new-etcd-ca moves it
// over, and `pki issue --csr ... --ca etcd` issues etcd's own serving certificate. openssl judges.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { runCli } from '../helpers/run-cli.ts';
import { modernSpec, tool, workspace, type Workspace } from './pki-workspace.ts';

const verify = (ca: string, cert: string): number => tool('openssl', ['verify', '-CAfile', ca, cert]).code;

/**
 * Runs `body` in a workspace with the modern spec, removed afterwards; `single-ca` first plants the
 * layout kubewright (or cfssl) wrote before etcd had its own CA: ca.pem and its key, nothing else.
 */
async function withWorkspace(prefix: string, layout: 'empty' | 'single-ca', body: (ws: Workspace) => Promise<void>): Promise<void> {
  const ws = await workspace(prefix);
  try {
    await ws.writeSpec(modernSpec());
    if (layout === 'single-ca') {
      const old = await createCertificateAuthority({ commonName: 'Kubernetes' });
      await mkdir(ws.pki, { mode: 0o700 });
      await writeFile(join(ws.pki, 'ca.pem'), old.certPem);
      await writeFile(join(ws.pki, 'ca-key.pem'), old.keyPem, { mode: 0o600 });
    }
    await body(ws);
  } finally {
    await ws.cleanup();
  }
}

/** etcd's serving-certificate CSR (cfssl JSON) in the workspace; returns its path */
async function etcdServerCsr(ws: Workspace, hosts: string[]): Promise<string> {
  const path = join(ws.dir, 'etcd-server.json');
  await writeFile(path, JSON.stringify({ CN: 'etcd', hosts, key: { algo: 'ecdsa', size: 256 } }));
  return path;
}

test('pki init on a new PKI creates the cluster CA and a separate etcd CA', () =>
  withWorkspace('etcdca-new', 'empty', async (ws) => {
    const r = await runCli('pki', 'init', '-f', ws.spec);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /issue\s+ca\s/);
    assert.match(r.stdout, /issue\s+etcd-ca\s+no etcd CA yet/);
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const etcdCa = join(ws.pki, 'etcd-ca.pem');
    assert.equal(verify(etcdCa, join(ws.pki, 'etcd-client.pem')), 0, 'flannel\'s etcd client certificate comes from the etcd CA');
    assert.notEqual(verify(join(ws.pki, 'ca.pem'), join(ws.pki, 'etcd-client.pem')), 0);
    assert.notEqual(verify(etcdCa, join(ws.pki, 'nodes/w1/kubelet.pem')), 0, 'a kubelet certificate is no etcd client');
    assert.match(tool('openssl', ['x509', '-noout', '-subject', '-in', etcdCa]).stdout, /CN = etcd-ca/);
  }));

test('a PKI with only ca.pem keeps its layout, is told the risk and the fix, and --new-etcd-ca moves it over', () =>
  withWorkspace('etcdca-legacy', 'single-ca', async (ws) => {
    const issue = await runCli('pki', 'issue', '-f', ws.spec);
    assert.equal(issue.code, 0, issue.stderr);
    assert.match(issue.stdout, /keep\s+etcd-ca\s+none: the cluster CA also signs flannel's etcd client certificate.*--new-etcd-ca/);
    assert.ok(!(await readdir(ws.pki)).includes('etcd-ca.pem'), 'no etcd CA appears on its own: etcd trusts ca.pem here');
    assert.equal(verify(join(ws.pki, 'ca.pem'), join(ws.pki, 'etcd-client.pem')), 0, 'etcd-client still comes from the cluster CA');

    const init = await runCli('pki', 'init', '-f', ws.spec, '--new-etcd-ca');
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /keep\s+ca\s/);
    assert.match(init.stdout, /issue\s+etcd-ca\s/);
    const plan = await runCli('pki', 'plan', '-f', ws.spec);
    assert.match(plan.stdout, /reissue\s+etcd-client\s+not signed by the current CA/);
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    assert.equal(verify(join(ws.pki, 'etcd-ca.pem'), join(ws.pki, 'etcd-client.pem')), 0);

    // etcd's own serving certificate, from the etcd CA
    const server = await runCli('pki', 'issue', '-f', ws.spec, '--csr', await etcdServerCsr(ws, ['10.0.0.2', '127.0.0.1']), '--name', 'etcd/server', '--ca', 'etcd');
    assert.equal(server.code, 0, server.stderr);
    assert.equal(verify(join(ws.pki, 'etcd-ca.pem'), join(ws.pki, 'etcd/server.pem')), 0);
    assert.notEqual(verify(join(ws.pki, 'ca.pem'), join(ws.pki, 'etcd/server.pem')), 0);
  }));

test('pki issue --ca etcd without an etcd CA says how to create one (exit 2)', () =>
  withWorkspace('etcdca-missing', 'single-ca', async (ws) => {
    const r = await runCli('pki', 'issue', '-f', ws.spec, '--csr', await etcdServerCsr(ws, ['10.0.0.2']), '--ca', 'etcd');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /etcd-ca\.pem: no etcd CA .*--new-etcd-ca/);
  }));

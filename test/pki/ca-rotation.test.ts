// CA rotation with dual trust, judged by openssl: in every window the bundle nodes get (the
// credentials' caPem, rendered to /etc/kubernetes/pki/ca.pem) verifies the certificates nodes
// hold at that time, and after finish the old CA's certificates no longer verify.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readClusterCredentials } from '../../src/pki/cluster-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { modernSpec, tool, workspace } from './pki-workspace.ts';

test('rotate-ca trust → switch → finish: nodes trust both CAs while certificates move to the new one, then only the new', async () => {
  const ws = await workspace('rotate');
  try {
    await ws.writeSpec(modernSpec());
    const cluster = parseCluster(await readFile(ws.spec, 'utf8'), ws.spec);
    const hosts = plannedHosts(cluster);
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const bundle = async (): Promise<string> => {
      const file = join(ws.dir, 'bundle.pem');
      await writeFile(file, (await readClusterCredentials(cluster, hosts))!.credentials.caPem);
      return file;
    };
    const verifies = (ca: string, cert: string): boolean => tool('openssl', ['verify', '-CAfile', ca, cert]).code === 0;
    const oldLeaf = join(ws.dir, 'old-kube-proxy.pem');
    await writeFile(oldLeaf, await readFile(join(ws.pki, 'kube-proxy.pem')));
    const oldCa = await readFile(join(ws.pki, 'ca.pem'), 'utf8');

    // stage trust: a second CA, nothing re-signed, the bundle holds both (old first)
    const trust = await runCli('pki', 'rotate-ca', '-f', ws.spec, '--stage', 'trust');
    assert.equal(trust.code, 0, trust.stderr);
    assert.match(trust.stdout, /issue\s+ca-next\s+new C=DE, ST=Wesel, L=NW, CN=Kubernetes \d{4}-\d\d-\d\d/);
    assert.equal(await readFile(join(ws.pki, 'ca.pem'), 'utf8'), oldCa, 'the signing CA is unchanged');
    assert.equal((await stat(join(ws.pki, 'ca-next-key.pem'))).mode & 0o777, 0o600);
    const plan1 = await runCli('pki', 'plan', '-f', ws.spec);
    assert.match(plan1.stdout, /keep\s+ca-next\s+.*trusted beside ca/);
    assert.match(plan1.stdout, /0 issue, 0 reissue/);
    let b = await bundle();
    assert.equal((await readFile(b, 'utf8')).match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok((await readFile(b, 'utf8')).startsWith(oldCa));
    assert.ok(verifies(b, oldLeaf));
    assert.equal((await runCli('pki', 'rotate-ca', '-f', ws.spec, '--stage', 'trust')).code, 0, 'a stage can be re-run');
    assert.equal((await runCli('pki', 'rotate-ca', '-f', ws.spec, '--stage', 'finish')).code, 2, 'finish before switch is refused');

    // stage switch: the new CA signs, every certificate is re-issued, the old CA stays trusted
    const sw = await runCli('pki', 'rotate-ca', '-f', ws.spec, '--stage', 'switch');
    assert.equal(sw.code, 0, sw.stderr);
    assert.equal(await readFile(join(ws.pki, 'ca-previous.pem'), 'utf8'), oldCa);
    assert.match((await runCli('pki', 'plan', '-f', ws.spec)).stdout, /reissue\s+kube-proxy\s+not signed by the current CA/);
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    b = await bundle();
    assert.ok(verifies(b, join(ws.pki, 'kube-proxy.pem')), 'the new certificate verifies against the bundle');
    assert.ok(verifies(b, oldLeaf), 'and a node still holding the old one keeps working');
    assert.ok(!verifies(join(ws.pki, 'ca.pem'), oldLeaf), 'the signing CA alone would not trust it');

    // stage finish: only the new CA
    assert.equal((await runCli('pki', 'rotate-ca', '-f', ws.spec, '--stage', 'finish')).code, 0);
    b = await bundle();
    assert.equal((await readFile(b, 'utf8')).match(/BEGIN CERTIFICATE/g)?.length, 1);
    assert.ok(verifies(b, join(ws.pki, 'kube-proxy.pem')));
    assert.ok(!verifies(b, oldLeaf), 'the old CA is no longer trusted');
    assert.match((await runCli('pki', 'plan', '-f', ws.spec)).stdout, /7 keep, 0 issue, 0 reissue/);
  } finally {
    await ws.cleanup();
  }
});

// Re-running is a no-op on disk; only what changed in the spec is re-issued; modes are right.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ensureClusterPki, planClusterPki, readClusterCredentials } from '../../src/pki/cluster-pki.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import type { Host } from '../../src/spec/host.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { modernSpec, tool, twoNodes, workspace } from './pki-workspace.ts';

/** relative path → sha256 and mtime of every file under dir */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    const s = await stat(p);
    out.set(relative(dir, p), `${createHash('sha256').update(await readFile(p)).digest('hex')} ${s.mtimeMs}`);
  }
  return out;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

test('re-running issue keeps every certificate and changes no bytes on disk', async () => {
  const ws = await workspace('idem');
  try {
    await ws.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const first = await snapshot(ws.pki);
    assert.equal(first.size, 3 + 2 + 5 * 3, 'ca.pem, ca-key.pem, ca-config.json, etcd-ca.pem, etcd-ca-key.pem and 5 bare triples');
    const again = await runCli('pki', 'issue', '-f', ws.spec, '--output', 'json');
    assert.equal(again.code, 0, again.stderr);
    const decisions = (JSON.parse(again.stdout) as { decisions: { action: string }[] }).decisions;
    assert.deepEqual([...new Set(decisions.map((d) => d.action))], ['keep']);
    assert.deepEqual(changed(first, await snapshot(ws.pki)), []);
    assert.equal((await runCli('pki', 'init', '-f', ws.spec)).code, 0);
    assert.deepEqual(changed(first, await snapshot(ws.pki)), [], 'init keeps the CA and ca-config.json');
  } finally {
    await ws.cleanup();
  }
});

test("changing one node's IP re-issues only that node's certificate", async () => {
  const ws = await workspace('ip');
  try {
    await ws.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const before = await snapshot(ws.pki);
    await ws.writeSpec(modernSpec([twoNodes[0] ?? { name: 'w1', address: '203.0.113.10' }, { name: 'w2', address: '203.0.113.99', privateAddress: '10.0.0.11' }]));
    const plan = await runCli('pki', 'plan', '-f', ws.spec);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /reissue\s+nodes\/w2\/kubelet\s+SANs differ: missing IP:203\.0\.113\.99; no longer wanted IP:203\.0\.113\.11/);
    assert.match(plan.stdout, /6 keep, 0 issue, 1 reissue/);
    assert.deepEqual(changed(before, await snapshot(ws.pki)), [], 'plan writes nothing');
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    assert.deepEqual(changed(before, await snapshot(ws.pki)), ['nodes/w2/kubelet-key.pem', 'nodes/w2/kubelet.csr', 'nodes/w2/kubelet.pem']);
    assert.match(tool('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(ws.pki, 'nodes/w2/kubelet.pem')]).stdout, /IP Address:203\.0\.113\.99/);
  } finally {
    await ws.cleanup();
  }
});

test('keys are 0600, certificates and CSRs 0644, directories 0700', async () => {
  const ws = await workspace('modes');
  try {
    await ws.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const mode = async (p: string): Promise<number> => (await stat(join(ws.pki, p))).mode & 0o777;
    for (const dir of ['.', 'nodes', 'nodes/w1']) assert.equal(await mode(dir), 0o700, dir);
    let keys = 0;
    for (const e of await readdir(ws.pki, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const p = relative(ws.pki, join(e.parentPath, e.name));
      const want = p.endsWith('-key.pem') ? 0o600 : 0o644;
      if (want === 0o600) keys++;
      assert.equal(await mode(p), want, p);
    }
    assert.equal(keys, 7, 'ca, etcd-ca and five certificate keys');
  } finally {
    await ws.cleanup();
  }
});

test('plan on an empty directory writes nothing and says everything will be issued', async () => {
  const ws = await workspace('plan');
  try {
    const cluster = await ws.writeSpec(modernSpec());
    const plan = await planClusterPki(cluster, plannedHosts(cluster));
    assert.deepEqual(plan.decisions.map((d) => `${d.action} ${d.name}`), ['issue ca', 'issue etcd-ca', 'issue nodes/w1/kubelet', 'issue nodes/w2/kubelet', 'issue kube-proxy', 'issue etcd-client', 'issue admin']);
    await assert.rejects(stat(ws.pki), /ENOENT/);
  } finally {
    await ws.cleanup();
  }
});

test('certificates expiring within the threshold are re-issued, and --threshold moves it', async () => {
  const ws = await workspace('expiry');
  try {
    const cluster = await ws.writeSpec(modernSpec());
    await ensureClusterPki(cluster, plannedHosts(cluster));
    const later = new Date(Date.now() + 340 * 86_400_000);
    const plan = await planClusterPki(cluster, plannedHosts(cluster), { now: later });
    const admin = plan.decisions.find((d) => d.name === 'admin');
    assert.equal(admin?.action, 'reissue');
    assert.match(admin?.reason ?? '', /expires on \d{4}-\d\d-\d\d \(2[45] days left\), within the 30d threshold/);
    assert.equal(plan.decisions.find((d) => d.name === 'ca')?.action, 'keep');
    const wide = await runCli('pki', 'plan', '-f', ws.spec, '--threshold', '400d');
    assert.match(wide.stdout, /2 keep, 0 issue, 5 reissue/);
    const narrow = await runCli('pki', 'plan', '-f', ws.spec, '--threshold', '720h');
    assert.match(narrow.stdout, /7 keep, 0 issue, 0 reissue/);
  } finally {
    await ws.cleanup();
  }
});

test('pki plan --expiring lists what expires within the threshold with its days left, and pki issue renews exactly those, with new keys', async () => {
  const ws = await workspace('renew');
  try {
    const cluster = await ws.writeSpec(modernSpec());
    // everything issued 100 days ago, then kube-proxy again today: only it has a full year left
    await ensureClusterPki(cluster, plannedHosts(cluster), { now: new Date(Date.now() - 100 * 86_400_000) });
    await rm(join(ws.pki, 'kube-proxy.pem'));
    await ensureClusterPki(cluster, plannedHosts(cluster));
    const listed = await runCli('pki', 'plan', '-f', ws.spec, '--threshold', '300d', '--expiring', '-o', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    const doc = JSON.parse(listed.stdout) as { decisions: { name: string; action: string; daysLeft: number; expiring: boolean }[] };
    const renewed = ['nodes/w1/kubelet', 'nodes/w2/kubelet', 'etcd-client', 'admin'];
    assert.deepEqual(doc.decisions.map((d) => d.name).sort(), [...renewed].sort());
    for (const d of doc.decisions) assert.ok(d.action === 'reissue' && d.expiring && d.daysLeft >= 263 && d.daysLeft <= 265, JSON.stringify(d));
    const text = await runCli('pki', 'plan', '-f', ws.spec, '--threshold', '300d');
    assert.match(text.stdout, /keep\s+kube-proxy\s+valid until \d{4}-\d\d-\d\d \(36[45] days left\)/);
    assert.match(text.stdout, /3 keep, 0 issue, 4 reissue; 4 expiring within 300d/);

    const before = new Map(await Promise.all(['kube-proxy', ...renewed].map(async (n) => [n, `${await readFile(join(ws.pki, `${n}.pem`), 'utf8')}${await readFile(join(ws.pki, `${n}-key.pem`), 'utf8')}`] as const)));
    const issued = await runCli('pki', 'issue', '-f', ws.spec, '--threshold', '300d');
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(issued.stdout, /3 keep, 0 issue, 4 reissue/);
    assert.equal(`${await readFile(join(ws.pki, 'kube-proxy.pem'), 'utf8')}${await readFile(join(ws.pki, 'kube-proxy-key.pem'), 'utf8')}`, before.get('kube-proxy'), 'kube-proxy untouched');
    for (const n of renewed) {
      const key = await readFile(join(ws.pki, `${n}-key.pem`), 'utf8');
      assert.ok(!before.get(n)!.includes(key), `${n}: a renewal brings a new key`);
    }
    assert.match((await runCli('pki', 'plan', '-f', ws.spec, '--threshold', '300d')).stdout, /7 keep, 0 issue, 0 reissue; 0 expiring within 300d/);
  } finally {
    await ws.cleanup();
  }
});

test('a key that does not match its certificate is re-issued with the reason', async () => {
  const ws = await workspace('keymismatch');
  try {
    await ws.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    await copyFile(join(ws.pki, 'admin-key.pem'), join(ws.pki, 'kube-proxy-key.pem'));
    const plan = await runCli('pki', 'plan', '-f', ws.spec);
    assert.match(plan.stdout, /reissue\s+kube-proxy\s+key does not match the certificate/);
    assert.doesNotMatch(plan.stdout, /BEGIN|PRIVATE/, 'no key material in the plan');
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    assert.match((await runCli('pki', 'plan', '-f', ws.spec)).stdout, /7 keep, 0 issue, 0 reissue/);
  } finally {
    await ws.cleanup();
  }
});

test('replacing the CA with --force re-issues every certificate it signed', async () => {
  const ws = await workspace('newca');
  try {
    await ws.writeSpec(modernSpec());
    assert.equal((await runCli('pki', 'issue', '-f', ws.spec)).code, 0);
    const keep = await runCli('pki', 'init', '-f', ws.spec, '--algo', 'ecdsa', '--size', '384');
    assert.match(keep.stdout, /keep\s+ca\s+.*pass --force to replace it with ecdsa-384/);
    assert.equal((await runCli('pki', 'init', '-f', ws.spec, '--algo', 'ecdsa', '--size', '384', '--force')).code, 0);
    const plan = await runCli('pki', 'plan', '-f', ws.spec);
    assert.match(plan.stdout, /ecdsa-384/);
    // the etcd CA and the etcd client certificate it signed are not touched by a new cluster CA
    assert.match(plan.stdout, /3 keep, 0 issue, 4 reissue/);
    assert.match(plan.stdout, /reissue\s+admin\s+not signed by the current CA/);
    assert.match(plan.stdout, /keep\s+etcd-client/);
  } finally {
    await ws.cleanup();
  }
});

test('a DigitalOcean node is issued by name first and re-issued once its addresses are known', async () => {
  const ws = await workspace('do');
  try {
    const text = (await readFile(new URL('../../examples/digitalocean.yaml', import.meta.url), 'utf8')).replace('count: 3', 'count: 1');
    const cluster = parseCluster(text, ws.spec);
    const planned = plannedHosts(cluster);
    const first = await ensureClusterPki(cluster, planned, { dir: ws.pki });
    const name = 'k8s-worker-0.example.com';
    const cert = first.paths.kubelet[name]?.cert ?? '';
    assert.match(tool('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', cert]).stdout, new RegExp(`DNS:${name.replaceAll('.', '\\.')}\\n`));
    const provisioned: Host[] = planned.map((h) => ({ ...h, address: '203.0.113.50', publicAddress: '203.0.113.50', privateAddress: '10.110.0.5' }));
    const second = await ensureClusterPki(cluster, provisioned, { dir: ws.pki });
    assert.deepEqual(second.decisions.filter((d) => d.action !== 'keep').map((d) => d.name), [`nodes/${name}/kubelet`]);
    assert.match(tool('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', cert]).stdout, /IP Address:203\.0\.113\.50, IP Address:10\.110\.0\.5/);
  } finally {
    await ws.cleanup();
  }
});

test("the seed profile issues the post's one kubelet certificate and hands it to every node", async () => {
  const ws = await workspace('seed');
  try {
    const text = await readFile(new URL('../../examples/seed.yaml', import.meta.url), 'utf8');
    const cluster = parseCluster(text, ws.spec);
    const r = await ensureClusterPki(cluster, plannedHosts(cluster), { dir: ws.pki });
    assert.deepEqual(r.decisions.map((d) => d.name), ['ca', 'etcd-ca', 'kubelet/kubelet', 'etcd-client', 'admin']);
    const creds = Object.values(r.credentials.kubelet);
    assert.equal(creds.length, 3);
    assert.ok(creds.every((c) => c.certPem === creds[0]?.certPem));
    assert.equal(r.credentials.kubeProxy, undefined, 'kube-proxy shares the kubelet kubeconfig in the post');
    const t = tool('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName', '-in', join(ws.pki, 'kubelet/kubelet.pem')]).stdout;
    assert.match(t, /subject=C = DE, ST = Wesel, L = NW, CN = kubelet\n/);
    assert.match(t, /DNS:\*\.example\.com\n/);
  } finally {
    await ws.cleanup();
  }
});

test('readClusterCredentials returns what is on disk without writing, and nothing before a CA exists', async () => {
  const ws = await workspace('read');
  try {
    const cluster = await ws.writeSpec(modernSpec());
    assert.equal(await readClusterCredentials(cluster, plannedHosts(cluster)), undefined);
    await assert.rejects(stat(ws.pki), /ENOENT/);
    const issued = await ensureClusterPki(cluster, plannedHosts(cluster));
    const before = await snapshot(ws.pki);
    const read = await readClusterCredentials(cluster, plannedHosts(cluster));
    assert.deepEqual(read?.credentials, issued.credentials);
    assert.deepEqual(changed(before, await snapshot(ws.pki)), []);
  } finally {
    await ws.cleanup();
  }
});

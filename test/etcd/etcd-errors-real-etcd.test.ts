// Against a real single-member etcd 3.4 with TLS client-cert auth and the v2 API off (the
// default since 3.4): every failure names its cause and the fix.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  EtcdAuthError,
  EtcdClientCertificateError,
  EtcdServerCertificateError,
  EtcdUnreachableError,
  EtcdV2DisabledError,
} from '../../src/etcd/etcd-errors.ts';
import { openEtcdStore } from '../../src/etcd/etcd-store.ts';
import type { EtcdTls } from '../../src/etcd/etcd-tls.ts';
import { writeFlannelNetworkConfig } from '../../src/etcd/flannel-network-config.ts';
import { startEtcdCluster, type EtcdTestCluster } from '../support/etcd-cluster.ts';
import { freePort } from '../support/free-port.ts';
import { runCli } from '../helpers/run-cli.ts';
import { testCluster, testClusterYaml } from './cluster-spec.ts';

let etcd: EtcdTestCluster;
let good: EtcdTls;

before(async () => {
  etcd = await startEtcdCluster({ members: 1, enableV2: false });
  good = { caPem: etcd.certs.caPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem };
});
after(async () => {
  await etcd?.stop();
});

async function failure(api: 'v2' | 'v3', tls: EtcdTls, endpoints = etcd.endpoints): Promise<unknown> {
  const store = openEtcdStore(api, { endpoints, tls, timeoutMs: 3000 });
  try {
    await store.get('/flannel.com/network/config');
  } catch (e) {
    return e;
  } finally {
    store.close();
  }
  return assert.fail(`reading through ${api} succeeded`);
}

test('the seed profile against etcd without --enable-v2 says to enable it', async () => {
  const cluster = testCluster({ profile: 'seed', endpoints: etcd.endpoints });
  const store = openEtcdStore('v2', { endpoints: etcd.endpoints, tls: good });
  await assert.rejects(writeFlannelNetworkConfig(store, cluster), (e: unknown) => {
    assert.ok(e instanceof EtcdV2DisabledError, String(e));
    assert.match(e.message, /v2 keys API is disabled/);
    assert.match(e.hint ?? '', /--enable-v2=true/);
    assert.match(e.hint ?? '', /3\.6 removed v2/);
    return true;
  });
});

test('kubewright etcd network on the seed profile exits 1 and says to enable v2', async () => {
  const spec = join(etcd.dir, 'seed-cluster.yaml');
  await writeFile(spec, testClusterYaml({ profile: 'seed', endpoints: etcd.endpoints, pkiDir: join(etcd.dir, 'pki') }));
  const r = await runCli('etcd', 'network', '-f', spec);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: etcd https:\/\/127\.0\.0\.1:\d+: the v2 keys API is disabled \(HTTP 404 on \/v2\/keys\) — .*--enable-v2=true/);
});

test('kubewright etcd network with another CA\'s client certificate exits 1 naming it', async () => {
  const spec = join(etcd.dir, 'rogue-cluster.yaml');
  await writeFile(spec, testClusterYaml({ profile: 'modern', endpoints: etcd.endpoints, pkiDir: join(etcd.dir, 'pki') }));
  const r = await runCli('etcd', 'network', '-f', spec, '--etcd-cert', etcd.certs.files.rogueCert, '--etcd-key', etcd.certs.files.rogueKey);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rejected the TLS client certificate \(CN=flannel, issued by CN=kw-rogue-ca\)/);
});

test('kubewright etcd with a bad flag value is a usage error (exit 2)', async () => {
  const r = await runCli('etcd', 'members', '-f', 'nope.yaml', '--endpoints', 'not a url');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--endpoints: "not a url" is not an etcd client URL/);
  assert.equal((await runCli('etcd', 'network', '--bogus')).code, 2);
});

for (const api of ['v2', 'v3'] as const) {
  test(`no client certificate is reported as a missing client certificate (${api})`, async () => {
    const e = await failure(api, { caPem: etcd.certs.caPem });
    assert.ok(e instanceof EtcdClientCertificateError, String(e));
    assert.match(e.message, /client certificate required .* none was given/);
    assert.match(e.hint ?? '', /--etcd-cert/);
  });

  test(`a client certificate from another CA is reported as rejected, naming its issuer (${api})`, async () => {
    const e = await failure(api, { caPem: etcd.certs.caPem, certPem: etcd.certs.rogueCertPem, keyPem: etcd.certs.rogueKeyPem });
    assert.ok(e instanceof EtcdClientCertificateError, String(e));
    assert.match(e.message, /rejected the TLS client certificate \(CN=flannel, issued by CN=kw-rogue-ca\)/);
    assert.match(e.hint ?? '', /--trusted-ca-file/);
  });

  test(`a server certificate from a CA we were not given is reported as untrusted (${api})`, async () => {
    const e = await failure(api, { caPem: etcd.certs.rogueCaPem, certPem: etcd.certs.clientCertPem, keyPem: etcd.certs.clientKeyPem });
    assert.ok(e instanceof EtcdServerCertificateError, String(e));
    assert.match(e.message, /server certificate not trusted/);
    assert.match(e.hint ?? '', /--etcd-ca/);
  });

  test(`no member listening is reported as no reachable member, listing what was tried (${api})`, async () => {
    const dead = [`https://127.0.0.1:${await freePort()}`, `https://127.0.0.1:${await freePort()}`];
    const e = await failure(api, good, dead);
    assert.ok(e instanceof EtcdUnreachableError, String(e));
    assert.match(e.message, /no reachable member/);
    assert.match(e.message, /connection refused/);
    if (api === 'v2') for (const d of dead) assert.ok(e.message.includes(d), e.message);
  });
}

test('etcd logged the rejected connections (the server side of the TLS failures)', async () => {
  const log = await etcd.memberLog(0);
  assert.match(log, /rejected connection.*client didn't provide a certificate/);
  assert.match(log, /rejected connection.*certificate signed by unknown authority/);
});

// last: turns on etcd auth for the rest of this file's cluster
test('with etcd auth on, a client whose CN has no permission gets the auth error with the grant to run', async () => {
  for (const args of [['user', 'add', 'root:kw-root-pw'], ['auth', 'enable']]) {
    const r = await etcd.etcdctl(args);
    assert.equal(r.code, 0, r.stderr);
  }
  const e = await failure('v3', good);
  assert.ok(e instanceof EtcdAuthError, String(e));
  assert.match(e.message, /read \/flannel\.com\/network\/config rejected: etcdserver: permission denied \(user "flannel"/);
  assert.match(e.hint ?? '', /etcdctl role grant-permission/);

  // once granted, the same client works
  for (const args of [
    ['user', 'add', 'flannel', '--no-password'],
    ['role', 'add', 'flannel'],
    ['role', 'grant-permission', 'flannel', '--prefix=true', 'readwrite', '/flannel.com/network/'],
    ['user', 'grant-role', 'flannel', 'flannel'],
  ]) {
    const r = await etcd.etcdctl(['--user', 'root:kw-root-pw', ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const store = openEtcdStore('v3', { endpoints: etcd.endpoints, tls: good });
  try {
    const r = await writeFlannelNetworkConfig(store, testCluster({ profile: 'modern', endpoints: etcd.endpoints }));
    assert.equal(r.action, 'create');
  } finally {
    store.close();
  }
});

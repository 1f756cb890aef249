// `--drain` works through the Kubernetes API: `apply --drain` and `up --drain` refuse it alike
// (exit 2, one message) when the API server does not answer, before they connect to a host or
// create anything. The hosts are a TCP listener on loopback that counts connections (no sshd:
// nothing may reach it); the API server is a loopback port nothing listens on.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

let dir: string;
let spec: string;
let hosts: Server;
let connections = 0;

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-drain-api-'));
  hosts = createServer((c) => {
    connections++;
    c.destroy();
  });
  await new Promise<void>((r) => hosts.listen(0, '127.0.0.1', r));
  const { port } = hosts.address() as AddressInfo;
  spec = join(dir, 'cluster.yaml');
  await writeFile(spec, `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: drainapi }
kubernetes: { version: "1.36", apiServer: "https://127.0.0.1:${await closedPort()}" }
provider:
  static:
    hosts:
      - { name: w1, address: 127.0.0.1, port: ${port}, privateAddress: 10.0.0.1 }
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
ssh: { user: root, privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
`);
});
after(async () => {
  await new Promise((r) => hosts.close(r));
  await rm(dir, { recursive: true, force: true });
});

for (const command of ['apply', 'up'] as const) {
  test(`${command} --drain without a Kubernetes API refuses with exit 2 before it connects to or creates anything`, async () => {
    const r = await runCli(command, '-f', spec, '--drain');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--drain: needs the Kubernetes API, and version skew not checked and Nodes not waited for: no credentials for the API server \(.*admin/);
    assert.match(r.stderr, /leave out --drain: a first `up` has no Nodes to drain/);
    assert.equal(connections, 0, 'no host was connected to');
    assert.ok(!existsSync(join(dir, 'pki')), 'no PKI was created');
    assert.ok(!existsSync(join(dir, '.kubewright', 'drainapi', 'static.json')), 'no host was recorded');
  });
}

test('up --drain with a PKI but no API server answering refuses the same way (exit 2), nothing connected or recorded', async () => {
  const pki = await runCli('pki', 'issue', '-f', spec);
  assert.equal(pki.code, 0, pki.stderr);
  try {
    const r = await runCli('up', '-f', spec, '--drain');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--drain: needs the Kubernetes API, and .*the API server at https:\/\/127\.0\.0\.1:\d+ is not reachable/);
    assert.equal(connections, 0, 'no host was connected to');
    assert.ok(!existsSync(join(dir, '.kubewright', 'drainapi', 'static.json')), 'no host was recorded');
  } finally {
    await rm(join(dir, 'pki'), { recursive: true, force: true });
  }
});

// Bad input to verify, kubeconfig and lab is exit 2 with a hint, before anything is contacted.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer } from 'node:net';
import { runCli } from '../helpers/run-cli.ts';

let dir = '';
let spec = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-verify-input-'));
  spec = join(dir, 'cluster.yaml');
  await writeFile(spec, `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: demo }
kubernetes: { apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [{ name: w0, address: 127.0.0.1 }] } }
`);
});
after(async () => rm(dir, { recursive: true, force: true }));

test('verify --wait that is not a duration is bad input', async () => {
  const r = await runCli('verify', '-f', spec, '--wait', 'soon');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--wait: not a duration \(got soon\) — write it like 90s, 5m or 1m30s/);
});

test('verify --output other than text or json is bad input', async () => {
  const r = await runCli('verify', '-f', spec, '--output', 'yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--output <format>.*Allowed choices are text, json/);
});

test('kubeconfig without a PKI says how to create one', async () => {
  const r = await runCli('kubeconfig', '-f', spec);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pki\/ca\.pem: cannot read the certificate \(ENOENT\) — create the PKI with `kubewright up/);
});

test('lab up on a spec without provider.lab is bad input', async () => {
  const r = await runCli('lab', 'up', '-f', spec);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /provider is static, not lab — set `provider: \{ lab: \{ hosts: 3 \} \}`/);
});

test('verify against an API server that refuses connections names the URL, kubernetes.apiServer and the control plane, not --wait', async () => {
  // a port that was free a moment ago: nothing listens there, so the connection is refused
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const kubeconfig = join(dir, 'refused.kubeconfig');
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: not-a-secret } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  const r = await runCli('verify', '-f', spec, '--kubeconfig', kubeconfig);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`the API server at https://127\\.0\\.0\\.1:${port} is not reachable \\(ECONNREFUSED\\)`));
  assert.match(r.stderr, /kubernetes\.apiServer/);
  assert.match(r.stderr, /control plane/);
  assert.doesNotMatch(r.stderr, /--wait/);
});

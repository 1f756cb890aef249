// Terraform JSON for the workers (golden, parses, the post's resource semantically) and the
// terraform provider that reads hosts back from a saved `terraform output -json`.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.ts';
import { parseTerraformOutput } from '../../src/providers/terraform/output-hosts.ts';
import { TerraformOutputProvider } from '../../src/providers/terraform/provider.ts';
import { renderTerraformFiles, renderTerraformJson } from '../../src/render/terraform.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { assertGolden } from '../support/golden.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const seedSpec = join(repo, 'examples', 'seed.yaml');
// the post's worker_server resource, copied verbatim (test/fixtures/seed-post/README.md)
const seedPostResource = join(repo, 'test', 'fixtures', 'seed-post', 'worker_server.tf');

let dir: string;
let seed: Cluster;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubewright-tf-'));
  seed = parseCluster(await readFile(seedSpec, 'utf8'), seedSpec);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TfDoc {
  terraform: { required_providers: Record<string, { source: string; version: string }> };
  resource: {
    digitalocean_droplet: { worker_server: Record<string, unknown> };
    digitalocean_tag: Record<string, { name: string }>;
    tls_private_key: Record<string, { count: number; algorithm: string }>;
  };
  output: Record<string, { value: string }>;
}

test('the seed spec renders the golden main.tf.json', () => {
  assertGolden('terraform', 'seed', renderTerraformJson(seed));
});

test('rendering is deterministic and parses as Terraform JSON with pinned providers', () => {
  const text = renderTerraformJson(seed);
  assert.equal(renderTerraformJson(seed), text);
  const doc = JSON.parse(text) as TfDoc;
  assert.deepEqual(doc.terraform.required_providers['digitalocean'], { source: 'digitalocean/digitalocean', version: '~> 2.0' });
  assert.match(doc.terraform.required_providers['tls']?.version ?? '', /^~> 4\./);
  for (const o of ['worker_names', 'worker_ipv4_addresses', 'worker_ipv4_private_addresses', 'worker_ssh_host_keys']) assert.ok(doc.output[o], o);
  assert.deepEqual(renderTerraformFiles(seed).map((f) => f.path), ['terraform/main.tf.json']);
});

/** The post's `resource "digitalocean_droplet" "worker_server" { ... }` as key → value. */
function postResource(text: string): Record<string, string | string[]> {
  const block = /resource "digitalocean_droplet" "worker_server" \{([\s\S]*?)\n\}/.exec(text)?.[1];
  assert.ok(block, 'the post has the worker_server resource');
  const out: Record<string, string | string[]> = {};
  for (const m of block.matchAll(/^\s*(\w+)\s*=\s*(\[[\s\S]*?\]|"[^"]*"|\S+)/gm)) {
    const [, key, raw] = m;
    if (!key || !raw) continue;
    out[key] = raw.startsWith('[') ? [...raw.matchAll(/"([^"]*)"/g)].map((x) => x[1] ?? '') : raw.replace(/^"|"$/g, '');
  }
  return out;
}

test('the droplet resource equals the post\'s resource for examples/seed.yaml, in modern arguments', async () => {
  const post = postResource(await readFile(seedPostResource, 'utf8'));
  const doc = JSON.parse(renderTerraformJson(seed)) as TfDoc;
  const ours = doc.resource.digitalocean_droplet.worker_server;
  const p = seed.provider.kind === 'digitalocean' ? seed.provider : assert.fail('seed is digitalocean');
  // the post's variables, bound to the seed spec's values
  const vars: Record<string, string> = { 'var.cloudflare_domain': p.domain, 'var.ssh_fingerprint': String(p.sshKeys[0]) };
  const bind = (s: string): string => s.replace(/\$\{(var\.\w+)\}/g, (all, v: string) => vars[v] ?? all);
  assert.equal(ours['image'], post['image']);
  assert.equal(ours['region'], post['region']);
  assert.equal(ours['size'], post['size']);
  assert.equal(ours['name'], bind(String(post['name'])));
  assert.deepEqual(ours['ssh_keys'], (post['ssh_keys'] as string[]).map(bind));
  // count: the post's 1 is "as many as required" — the spec's workers.count
  assert.equal(post['count'], '1');
  assert.equal(ours['count'], seed.workers.count);
  // tags: like the post, a reference to a digitalocean_tag resource's id (ours is the spec's tag)
  assert.match(String((post['tags'] as string[])[0]), /^\$\{digitalocean_tag\.\w+\.id\}$/);
  const tagRef = /^\$\{digitalocean_tag\.(\w+)\.id\}$/.exec(String((ours['tags'] as string[])[0]));
  assert.equal(doc.resource.digitalocean_tag[tagRef?.[1] ?? '']?.name, 'k8s-worker');
  // private_networking = true is deprecated: every droplet now has a VPC interface; vpc_uuid only when the spec names one
  assert.equal(post['private_networking'], 'true');
  assert.ok(!('private_networking' in ours));
  assert.ok(!('vpc_uuid' in ours));
  // added: the droplet's own host key through cloud-init
  assert.match(String(ours['user_data']), /^#cloud-config\n[\s\S]*ed25519_private: \$\{jsonencode\(tls_private_key\.worker_host_key\[count\.index\]\.private_key_openssh\)\}/);
  assert.deepEqual(doc.resource.tls_private_key['worker_host_key'], { count: 3, algorithm: 'ED25519' });
  const keys = Object.keys(ours).sort();
  assert.deepEqual(keys, ['count', 'image', 'name', 'region', 'size', 'ssh_keys', 'tags', 'user_data']);
});

test('a vpcUuid, numeric image and several tags become vpc_uuid, a string image and one tag resource each', () => {
  const text = [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: vpc }', 'kubernetes: { apiServer: "https://api.example.com:6443" }',
    'provider:',
    '  digitalocean: { image: 12345, tags: [k8s-worker, "env:prod"], vpcUuid: 5a4981aa-9653-4bd1-bef5-d6bff52042e4, sshKeys: [512189], domain: example.org, namePattern: "w{index}-x.{domain}" }',
    'workers: { count: 2 }', '',
  ].join('\n');
  const doc = JSON.parse(renderTerraformJson(parseCluster(text, 'vpc.yaml'))) as TfDoc;
  const d = doc.resource.digitalocean_droplet.worker_server;
  assert.equal(d['vpc_uuid'], '5a4981aa-9653-4bd1-bef5-d6bff52042e4');
  assert.equal(d['image'], '12345');
  assert.deepEqual(d['ssh_keys'], ['512189']);
  assert.deepEqual(d['tags'], ['${digitalocean_tag.k8s_worker.id}', '${digitalocean_tag.env_prod.id}']);
  assert.deepEqual(doc.resource.digitalocean_tag, { k8s_worker: { name: 'k8s-worker' }, env_prod: { name: 'env:prod' } });
  assert.equal(d['name'], 'w${count.index}-x.example.org');
  // a "${" that Terraform would interpolate cannot reach it: the spec refuses such a pattern
  assert.throws(() => parseCluster(text.replace('w{index}-x', 'w{index}-${x}'), 'vpc.yaml'), /invalid cluster spec/);
});

const tfOutput = {
  worker_names: { sensitive: false, type: ['tuple', ['string', 'string']], value: ['k8s-worker-0.example.com', 'k8s-worker-1.example.com'] },
  worker_ipv4_addresses: { sensitive: false, type: ['tuple', ['string', 'string']], value: ['203.0.113.10', '203.0.113.11'] },
  worker_ipv4_private_addresses: { sensitive: false, type: ['tuple', ['string', 'string']], value: ['10.135.0.2', '10.135.0.3'] },
  worker_ssh_host_keys: { sensitive: false, type: ['tuple', ['string', 'string']], value: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEjRd1vWaZvrFRy+x+ENJi3+5vI5orRuQ3DROeLI3GOJ', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFQ0h0aVn5gfvjPUEy3rjJq7iwg1aCQZ4u5q8KXy7N1s'] },
};

test('the terraform provider reads hosts from terraform output -json and pins their host keys', async () => {
  await writeFile(join(dir, 'hosts.json'), JSON.stringify(tfOutput));
  const specText = [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: tf }', 'kubernetes: { apiServer: "https://api.example.com:6443" }',
    'provider: { terraform: { outputFile: hosts.json } }', 'ssh: { knownHostsPath: ./known_hosts }', '',
  ].join('\n');
  const file = join(dir, 'tf.yaml');
  await writeFile(file, specText);
  const provider = new TerraformOutputProvider(parseCluster(specText, file));
  const hosts = await provider.recorded();
  assert.deepEqual(hosts.map((x) => [x.name, x.address, x.privateAddress]), [
    ['k8s-worker-0.example.com', '203.0.113.10', '10.135.0.2'],
    ['k8s-worker-1.example.com', '203.0.113.11', '10.135.0.3'],
  ]);
  assert.deepEqual(await provider.pinHostKeys(), []);
  const known = await readFile(join(dir, 'known_hosts'), 'utf8');
  assert.equal(known, `k8s-worker-0.example.com,203.0.113.10,10.135.0.2 ${tfOutput.worker_ssh_host_keys.value[0]}\nk8s-worker-1.example.com,203.0.113.11,10.135.0.3 ${tfOutput.worker_ssh_host_keys.value[1]}\n`);
  const cli = await runCli('provision', '-f', file, '--output', 'json');
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal((JSON.parse(cli.stdout) as { hosts: unknown[] }).hosts.length, 2);
});

test('terraform output with missing or uneven outputs is rejected with a hint', () => {
  assert.throws(() => parseTerraformOutput('{}', 'out.json'), (e: unknown) => e instanceof InputError && /out\.json: worker_names/.test(e.message));
  const uneven = { ...tfOutput, worker_ipv4_addresses: { value: ['203.0.113.10'] } };
  assert.throws(() => parseTerraformOutput(JSON.stringify(uneven), 'out.json'), /different numbers of hosts/);
  assert.throws(() => parseTerraformOutput('not json', 'out.json'), /out\.json: not JSON/);
});

test('kubewright terraform writes main.tf.json, and refuses a spec without provider.digitalocean', async () => {
  const out = join(dir, 'tf-out');
  const r = await runCli('terraform', '-f', seedSpec, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(out, 'main.tf.json'), 'utf8'), renderTerraformJson(seed));
  const file = join(dir, 'static.yaml');
  await writeFile(file, [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: st }', 'kubernetes: { apiServer: "https://api.example.com:6443" }',
    'provider: { static: { hosts: [{ name: w1, address: 192.0.2.1 }] } }', '',
  ].join('\n'));
  const bad = await runCli('terraform', '-f', file, '--out', out);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /terraform: needs provider\.digitalocean/);
});

// The user_data kubewright hands to droplets, checked by real cloud-init: the batch's Jinja
// template renders, per droplet name, to a schema-valid cloud-config that installs exactly that
// droplet's host key; the Terraform template does the same once Terraform fills it in.
// Needs the Debian package cloud-init (for `cloud-init devel render` and `cloud-init schema`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { generateHostKey, hostKeyCloudConfig } from '../../src/providers/digitalocean/host-keys.ts';
import { renderTerraformJson } from '../../src/render/terraform.ts';
import { parseCluster } from '../../src/spec/cluster.ts';

const run = promisify(execFile);
let dir: string;
let cloudInit: string | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubewright-cloudinit-'));
  cloudInit = await run('sh', ['-c', 'command -v cloud-init']).then((r) => r.stdout.trim() || undefined, () => undefined);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What cloud-init on a droplet named `hostname` makes of this user_data. */
async function renderFor(userData: string, hostname: string, tag: string): Promise<string> {
  const ud = join(dir, `${tag}.user-data`);
  const inst = join(dir, `${tag}.instance-data.json`);
  await writeFile(ud, userData);
  // DataSourceDigitalOcean sets local-hostname from the metadata "hostname": the droplet name
  await writeFile(inst, JSON.stringify({ v1: { local_hostname: hostname } }));
  const { stdout } = await run(cloudInit ?? 'cloud-init', ['devel', 'render', '-i', inst, ud]);
  return stdout;
}

async function assertValidCloudConfig(text: string, tag: string): Promise<void> {
  const f = join(dir, `${tag}.cloud-config`);
  await writeFile(f, text);
  const { stdout } = await run(cloudInit ?? 'cloud-init', ['schema', '-c', f]);
  assert.match(stdout, /Valid cloud-config/);
}

test('each droplet of a batch gets a valid cloud-config with its own host key and no other', async (t) => {
  if (!cloudInit) return t.skip('cloud-init is not installed (apt-get install cloud-init)');
  const keys = ['k8s-worker-0.example.com', 'k8s-worker-1.example.com', 'k8s-worker-2.example.com'].map(generateHostKey);
  const userData = hostKeyCloudConfig(keys);
  for (const [i, k] of keys.entries()) {
    const out = await renderFor(userData, k.name, `batch-${i}`);
    await assertValidCloudConfig(out, `batch-${i}`);
    const cfg = parseYaml(out) as { ssh_keys: { ed25519_private: string; ed25519_public: string }; ssh_genkeytypes: string[] };
    assert.equal(cfg.ssh_keys.ed25519_public, k.publicKey);
    assert.equal(cfg.ssh_keys.ed25519_private, k.privateKey);
    assert.deepEqual(cfg.ssh_genkeytypes, ['ed25519']);
    for (const other of keys) if (other !== k) assert.ok(!out.includes(other.publicKey.split(' ')[1] ?? '?'));
  }
  // a droplet whose name matches no branch gets no injected key (its own generated key then fails verification)
  const stray = parseYaml(await renderFor(userData, 'someone-else', 'stray')) as Record<string, unknown>;
  assert.equal(stray['ssh_keys'], undefined);
});

test('a single droplet gets a plain cloud-config that cloud-init accepts', async (t) => {
  if (!cloudInit) return t.skip('cloud-init is not installed (apt-get install cloud-init)');
  const k = generateHostKey('k8s-worker-7.example.com');
  const userData = hostKeyCloudConfig([k]);
  assert.ok(userData.startsWith('#cloud-config\n'));
  await assertValidCloudConfig(userData, 'single');
  assert.equal((parseYaml(userData) as { ssh_keys: { ed25519_public: string } }).ssh_keys.ed25519_public, k.publicKey);
});

test('the Terraform user_data, filled in as Terraform would, is a valid cloud-config with the key', async (t) => {
  if (!cloudInit) return t.skip('cloud-init is not installed (apt-get install cloud-init)');
  const text = [
    'apiVersion: kubewright.dev/v1alpha1', 'kind: Cluster', 'metadata: { name: tf }', 'kubernetes: { apiServer: "https://api.example.com:6443" }',
    'provider: { digitalocean: { domain: example.com, sshKeys: [1] } }', 'workers: { count: 1 }', '',
  ].join('\n');
  const doc = JSON.parse(renderTerraformJson(parseCluster(text, 'tf.yaml'))) as { resource: { digitalocean_droplet: { worker_server: { user_data: string } } } };
  const k = generateHostKey('k8s-worker-0.example.com');
  // jsonencode(x) and trimspace(x) as Terraform evaluates them
  const filled = doc.resource.digitalocean_droplet.worker_server.user_data
    .replace(/\$\{jsonencode\(trimspace\([^)]*public_key_openssh\)\)\}/, JSON.stringify(k.publicKey))
    .replace(/\$\{jsonencode\([^)]*private_key_openssh\)\}/, JSON.stringify(k.privateKey));
  assert.ok(!filled.includes('${'), 'every interpolation was filled');
  await assertValidCloudConfig(filled, 'terraform');
  const cfg = parseYaml(filled) as { ssh_keys: { ed25519_private: string; ed25519_public: string } };
  assert.equal(cfg.ssh_keys.ed25519_private, k.privateKey);
  assert.equal(cfg.ssh_keys.ed25519_public, k.publicKey);
});

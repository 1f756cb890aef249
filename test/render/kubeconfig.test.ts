// renderKubeconfig: the post's layout with certificate paths, or embedded data; every variant is
// read back by kubectl (skipped, with a message, when kubectl is not on PATH).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { renderKubeconfig, type KubeconfigOptions } from '../../src/render/kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const kubectl = hasKubectl();

interface Viewed {
  'current-context': string;
  clusters: { name: string; cluster: Record<string, string> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  users: { name: string; user: Record<string, string> }[];
}

let n = 0;
/** `kubectl config view --minify --raw` on the text, as JSON. */
function kubectlView(text: string): Viewed {
  const f = join(dir, `kubeconfig-${n++}.yml`);
  writeFileSync(f, text);
  return JSON.parse(execFileSync('kubectl', ['config', 'view', '--minify', '--raw', '--kubeconfig', f, '-o', 'json'], { encoding: 'utf8' })) as Viewed;
}

const postOptions: KubeconfigOptions = {
  clusterName: 'kubernetes',
  server: 'https://api.example.com:6443',
  user: 'kubelet',
  ca: { path: '/etc/kubelet/kube-ca.pem' },
  client: { certPath: '/etc/kubelet/kubelet.pem', keyPath: '/etc/kubelet/kubelet-key.pem' },
};

test('certificate paths render the post\'s kube-config.yml layout exactly', () => {
  assert.equal(
    renderKubeconfig(postOptions),
    `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /etc/kubelet/kube-ca.pem
    server: https://api.example.com:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubelet
  name: kubelet
current-context: kubelet
users:
- name: kubelet
  user:
    client-certificate: /etc/kubelet/kubelet.pem
    client-key: /etc/kubelet/kubelet-key.pem
`,
  );
});

test('embedded credentials are base64 data fields and no path fields', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
  const text = renderKubeconfig({
    ...postOptions,
    user: 'system:node:w1',
    context: 'default',
    ca: { pem: ca },
    client: { certPem: 'CERT\n', keyPem: 'KEY\n' },
  });
  const doc = parse(text) as Viewed;
  assert.equal(Buffer.from(doc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), ca);
  assert.equal(Buffer.from(doc.users[0]?.user['client-certificate-data'] ?? '', 'base64').toString(), 'CERT\n');
  assert.equal(Buffer.from(doc.users[0]?.user['client-key-data'] ?? '', 'base64').toString(), 'KEY\n');
  assert.doesNotMatch(text, /certificate-authority:|client-certificate:|client-key:/);
  assert.equal(doc['current-context'], 'default');
  assert.equal(doc.contexts[0]?.context.user, 'system:node:w1');
});

test('the same options always render the same bytes', () => {
  assert.equal(renderKubeconfig({ ...postOptions }), renderKubeconfig({ ...postOptions }));
});

test('kubectl reads the path form back with the post\'s names', (t) => {
  if (!kubectl) return t.skip('kubectl is not on PATH');
  const v = kubectlView(renderKubeconfig(postOptions));
  assert.equal(v['current-context'], 'kubelet');
  assert.deepEqual(v.clusters, [{ name: 'kubernetes', cluster: { server: 'https://api.example.com:6443', 'certificate-authority': '/etc/kubelet/kube-ca.pem' } }]);
  assert.deepEqual(v.contexts, [{ name: 'kubelet', context: { cluster: 'kubernetes', user: 'kubelet' } }]);
  assert.deepEqual(v.users, [{ name: 'kubelet', user: { 'client-certificate': '/etc/kubelet/kubelet.pem', 'client-key': '/etc/kubelet/kubelet-key.pem' } }]);
});

test('kubectl reads the embedded form back with --raw data intact', (t) => {
  if (!kubectl) return t.skip('kubectl is not on PATH');
  const v = kubectlView(renderKubeconfig({ ...postOptions, ca: { pem: 'CA PEM\n' }, client: { certPem: 'CERT PEM\n', keyPem: 'KEY PEM\n' } }));
  assert.equal(Buffer.from(v.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), 'CA PEM\n');
  assert.equal(Buffer.from(v.users[0]?.user['client-key-data'] ?? '', 'base64').toString(), 'KEY PEM\n');
});

test('names that YAML 1.1 would read as booleans or numbers stay strings for kubectl', (t) => {
  if (!kubectl) return t.skip('kubectl is not on PATH');
  for (const name of ['yes', 'Yes', 'OFF', 'on', 'no', 'y', '1e3', '0x1f', 'null', '~', 'a: b', 'k:', '#x', 'system:node:w1']) {
    const v = kubectlView(renderKubeconfig({ ...postOptions, clusterName: name, user: name }));
    assert.equal(v.clusters[0]?.name, name, `cluster name ${JSON.stringify(name)}`);
    assert.equal(v.users[0]?.name, name, `user name ${JSON.stringify(name)}`);
    assert.equal(v['current-context'], name);
  }
});

// kubeconfig files: certificate paths (as the post writes them) or embedded data.
// Written by hand in the post's layout (not through a YAML serializer) so the seed profile's
// kube-config.yml matches the post line for line and the output never depends on key order.
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  clusterName: string;
  server: string;
  user: string;
  /** context name; defaults to the user name (the post: context kubelet, user kubelet) */
  context?: string;
  ca: { path: string } | { pem: string };
  client: { certPath: string; keyPath: string } | { certPem: string; keyPem: string };
}

/**
 * A YAML scalar: plain when it reads back as the same string, quoted otherwise. YAML 1.1 rules,
 * because kubectl and client-go parse with go-yaml, which reads `yes`/`on`/`y` as booleans.
 */
function scalar(value: string): string {
  // fast path for the common case (paths, URLs, names): plain unless YAML 1.1 reads it as bool/null
  if (PLAIN.test(value) && !YAML11_WORDS.has(value)) return value;
  return stringify(value, { version: '1.1', lineWidth: 0 }).trimEnd();
}

/** Starts with a letter or `/`, then only characters that never start YAML syntax; no `: `, no trailing `:`. */
const PLAIN = /^[A-Za-z/][A-Za-z0-9._/-]*(?::[A-Za-z0-9._/-]+)*$/;
const YAML11_WORDS = new Set(
  ['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null'].flatMap((w) => [w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1)]),
);

function base64(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

export function renderKubeconfig(opts: KubeconfigOptions): string {
  const context = opts.context ?? opts.user;
  const ca = 'path' in opts.ca
    ? `certificate-authority: ${scalar(opts.ca.path)}`
    : `certificate-authority-data: ${base64(opts.ca.pem)}`;
  const client = 'certPath' in opts.client
    ? [`client-certificate: ${scalar(opts.client.certPath)}`, `client-key: ${scalar(opts.client.keyPath)}`]
    : [`client-certificate-data: ${base64(opts.client.certPem)}`, `client-key-data: ${base64(opts.client.keyPem)}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    ${ca}`,
    `    server: ${scalar(opts.server)}`,
    `  name: ${scalar(opts.clusterName)}`,
    'contexts:',
    '- context:',
    `    cluster: ${scalar(opts.clusterName)}`,
    `    user: ${scalar(opts.user)}`,
    `  name: ${scalar(context)}`,
    `current-context: ${scalar(context)}`,
    'users:',
    `- name: ${scalar(opts.user)}`,
    '  user:',
    ...client.map((l) => `    ${l}`),
    '',
  ].join('\n');
}

// The seed profile: the post's files, reproduced (fidelity against the post's config blocks in
// test/fixtures/seed-post/), golden files at Kubernetes 1.8 and 1.23 as a second check,
// systemd-analyze verify on every unit, kubectl on the kubeconfig, the manifests and the flannel
// config parsed, and the public_ip script run against a loopback server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { InputError, isKubewrightError } from '../../src/errors.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { PUBLIC_IP_METADATA_URL } from '../../src/render/seed/public-ip.ts';
import type { RenderedFile, RenderedHost } from '../../src/render/types.ts';
import type { ClusterCredentials } from '../../src/spec/credentials.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { parseCluster } from '../../src/spec/cluster.ts';
import { makeFakeRoot, runConfined } from '../support/fake-root.ts';
import { exampleInput, exampleText } from '../support/example-clusters.ts';
import { assertGolden, renderedClusterText, updatingGolden } from '../support/golden.ts';
import { verifyUnits } from '../support/systemd-verify.ts';

// The post's config blocks, copied verbatim into the repo (see test/fixtures/seed-post/README.md)
const POST_FIXTURES = new URL('../fixtures/seed-post/', import.meta.url);

function fileAt(host: RenderedHost, path: string): RenderedFile {
  const f = host.files.find((x) => x.path === path);
  assert.ok(f, `${host.name}: no file ${path} (have ${host.files.map((x) => x.path).join(', ')})`);
  return f;
}

function firstHost(version?: string): RenderedHost {
  const h = renderCluster(exampleInput('seed', version)).hosts.values().next().value;
  assert.ok(h, 'the seed example renders at least one host');
  return h;
}

/** Whitespace-normalised lines: trimmed, inner runs of blanks collapsed, empty lines dropped. */
function normalise(text: string): string[] {
  return text.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '');
}

/** One of the post's config blocks; a missing fixture fails (never skips). */
function postBlock(name: string): Promise<string> {
  return readFile(new URL(name, POST_FIXTURES), 'utf8');
}

/**
 * Deliberate deviations from the post, each with its reason. Applied to the post's text before
 * comparing, so anything else that differs fails the test.
 */
const deviations: { file: string; from: string; to: string; why: string }[] = [
  {
    file: 'kube-config.yml',
    from: 'server: { kube_api_endpoint }',
    to: 'server: https://api.example.com:6443',
    why: 'the post leaves the API endpoint as an Ansible placeholder; kubewright fills in kubernetes.apiServer',
  },
  {
    file: 'Service.yml',
    from: '# __MACHINE_GENERATED_WARNING__',
    to: '',
    why: 'a placeholder of the addon manager\'s template pipeline that the post copied verbatim; it means nothing in an applied file',
  },
];

function expectedFromPost(file: string, text: string): string[] {
  let out = text;
  for (const d of deviations.filter((x) => x.file === file)) {
    assert.ok(out.includes(d.from), `deviation for ${file} no longer matches the post: ${d.from}`);
    out = out.replace(d.from, d.to);
  }
  return normalise(out);
}

test('the post\'s config blocks in the fixture are unedited (their sums match SHA256SUMS)', async () => {
  const sums = (await postBlock('SHA256SUMS')).trim().split('\n').map((l) => l.split(/\s+/));
  assert.equal(sums.length, 8, 'SHA256SUMS lists the 8 blocks');
  for (const [sum, name] of sums) {
    assert.ok(sum && name);
    assert.equal(createHash('sha256').update(await postBlock(name)).digest('hex'), sum, `${name} differs from the post's block`);
  }
});

test('each unit file of the post is reproduced line for line by the seed example', async () => {
  const host = firstHost();
  const units: [description: string, path: string][] = [
    ['flanneld', '/etc/systemd/system/flanneld.service'],
    ['dockerd', '/etc/systemd/system/docker.service'],
    ['kubelet', '/etc/systemd/system/kubelet.service'],
    ['kube-proxy', '/etc/systemd/system/kube-proxy.service'],
  ];
  for (const [description, path] of units) {
    const text = await postBlock(path.slice(path.lastIndexOf('/') + 1));
    const expected = expectedFromPost(path, text);
    assert.equal(expected[1], `Description=${description}`, `fixture ${path}: not the ${description} unit`);
    assert.deepEqual(normalise(fileAt(host, path).contents), expected, `${path} differs from the post`);
  }
});

test('kube-config.yml is the post\'s, with the spec\'s API server in place of the placeholder', async () => {
  const text = await postBlock('kube-config.yml');
  assert.match(text, /^kind: Config$/m);
  const got = fileAt(firstHost(), '/etc/kubelet/kube-config.yml').contents;
  assert.deepEqual(normalise(got), expectedFromPost('kube-config.yml', text));
});

test('the kube-dns manifests are the post\'s Deployment.yml and Service.yml', async () => {
  const cluster = renderCluster(exampleInput('seed')).cluster;
  const byPath = new Map(cluster.map((f) => [f.path, f.contents]));
  assert.deepEqual(normalise(byPath.get('kube-dns/Deployment.yml') ?? ''), expectedFromPost('Deployment.yml', await postBlock('Deployment.yml')));
  assert.deepEqual(normalise(byPath.get('kube-dns/Service.yml') ?? ''), expectedFromPost('Service.yml', await postBlock('Service.yml')));
});

test('the fidelity check can fail: a changed flag in a rendered unit differs from the post', async () => {
  const path = '/etc/systemd/system/kubelet.service';
  const rendered = fileAt(firstHost(), path).contents.replace('--cluster-dns=10.32.0.10', '--cluster-dns=10.32.0.11');
  assert.notDeepEqual(normalise(rendered), expectedFromPost(path, await postBlock('kubelet.service')));
});

test('the seed profile at Kubernetes 1.8 matches its golden file', () => {
  assertGolden('render', 'seed-1.8', renderedClusterText(renderCluster(exampleInput('seed'))));
});

test('the seed profile at Kubernetes 1.23 matches its golden file', () => {
  assertGolden('render', 'seed-1.23', renderedClusterText(renderCluster(exampleInput('seed', '1.23'))));
});

test('a golden that differs fails and says how to update it (the golden check can fail)', (t) => {
  if (updatingGolden()) return t.skip('UPDATE_GOLDEN is set: goldens are being rewritten');
  const text = renderedClusterText(renderCluster(exampleInput('seed')));
  assert.throws(() => assertGolden('render', 'seed-1.8', text.replace('RestartSec=15', 'RestartSec=16')), /UPDATE_GOLDEN=1/);
  assert.throws(() => assertGolden('render', 'no-such-case', text), /missing — run the test with UPDATE_GOLDEN=1/);
});

test('the spec\'s etcd prefix, masquerading, DNS and proxy mode flow into the seed units', () => {
  const text = exampleText('seed')
    .replace('prefix: /flannel.com/network', 'prefix: /coreos.com/network')
    .replace('ipMasq: true', 'ipMasq: false')
    .replace('clusterDNS: 10.32.0.10', 'clusterDNS: 10.32.0.53')
    .replace('kubeProxyMode: iptables', 'kubeProxyMode: ipvs');
  const cluster = parseCluster(text, 'seed.yaml');
  const host = renderCluster({ cluster, hosts: plannedHosts(cluster) }).hosts.values().next().value;
  assert.ok(host);
  const flanneld = fileAt(host, '/etc/systemd/system/flanneld.service').contents;
  assert.match(flanneld, /-etcd-prefix=\/coreos\.com\/network \\/);
  assert.doesNotMatch(flanneld, /-ip-masq/);
  assert.match(flanneld, /-etcd-keyfile=\/etc\/flannel\/etcd-client-key\.pem\nRestart=always/, 'the last flag ends the ExecStart');
  assert.match(fileAt(host, '/etc/systemd/system/kubelet.service').contents, /--cluster-dns=10\.32\.0\.53 \\/);
  assert.match(fileAt(host, '/etc/systemd/system/kube-proxy.service').contents, /--proxy-mode=ipvs\n/);
});

for (const version of ['1.8.0', '1.23']) {
  test(`every seed unit at Kubernetes ${version} passes systemd-analyze verify with empty stderr`, async () => {
    const host = firstHost(version);
    const names = host.units.map((u) => u.name).filter((n) => host.files.some((f) => f.path === `/etc/systemd/system/${n}`));
    for (const n of ['flanneld.service', 'docker.service', 'public_ip.service', 'kubelet.service', 'kube-proxy.service']) {
      assert.ok(names.includes(n), `${n} is rendered`);
    }
    // verifyUnits stubs missing Requires= targets, so check here that each names a rendered unit
    for (const n of names) {
      const unit = fileAt(host, `/etc/systemd/system/${n}`).contents;
      for (const dep of (/^Requires=(.*)$/m.exec(unit)?.[1] ?? '').split(' ').filter(Boolean)) {
        assert.ok(names.includes(dep), `${n} requires ${dep}, which is not rendered`);
      }
    }
    const r = await verifyUnits(host.files, names);
    assert.equal(r.stderr, '', `${r.command}\n${r.stderr}`);
    assert.equal(r.code, 0, r.command);
  });
}

test('systemd-analyze verify catches a typo in a rendered unit (the check can fail)', async () => {
  const host = firstHost();
  const files = host.files.map((f) => (f.path.endsWith('/kubelet.service') ? { ...f, contents: f.contents.replace('RestartSec=', 'RestartSecs=') } : f));
  const r = await verifyUnits(files, ['kubelet.service']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Unknown key 'RestartSecs'/);
});

test('units start in the post\'s order and restart on their own files, binaries and certificates', () => {
  const host = firstHost();
  assert.deepEqual(host.units.map((u) => u.name), [
    'etcd-lookup.service', 'flanneld.service', 'docker.service', 'public_ip.service', 'kubelet.service', 'kube-proxy.service',
  ]);
  const dep = (n: string): string[] => host.units.find((u) => u.name === n)?.dependsOn ?? [];
  assert.ok(dep('kubelet.service').includes('/etc/kubelet/kube-config.yml'));
  assert.ok(dep('kubelet.service').includes('/usr/bin/kubelet'));
  assert.ok(dep('kubelet.service').includes('/etc/kubelet/kubelet-key.pem'));
  assert.ok(dep('kube-proxy.service').includes('/etc/kubelet/kube-config.yml'));
  assert.ok(dep('flanneld.service').includes('/etc/flannel/etcd-client.pem'));
  assert.ok(dep('docker.service').includes('/usr/bin/dockerd'));
  assert.ok(!dep('docker.service').includes('/usr/bin/docker'), 'the docker CLI is not the daemon');
  assert.ok(dep('public_ip.service').includes('/usr/local/bin/public_ip'));
  // every unit restarts on its own unit file, and every rendered unit file belongs to a unit
  for (const f of host.files.filter((x) => x.path.startsWith('/etc/systemd/system/'))) {
    assert.ok(host.units.some((u) => u.dependsOn.includes(f.path)), `${f.path} restarts its unit`);
  }
  // every binary the units run is downloaded
  const bins = host.binaries.map((b) => b.path);
  for (const p of ['/usr/bin/flanneld', '/usr/bin/dockerd', '/usr/bin/kubelet', '/usr/bin/kube-proxy']) assert.ok(bins.includes(p), p);
});

test('the post\'s kube-config.yml passes kubectl config view --minify --raw', async (t) => {
  let kubectl = true;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    kubectl = false;
  }
  if (!kubectl) {
    t.skip('kubectl is not on PATH');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'kw-seed-kubeconfig-'));
  try {
    const f = join(dir, 'kube-config.yml');
    await writeFile(f, fileAt(firstHost(), '/etc/kubelet/kube-config.yml').contents);
    const out = execFileSync('kubectl', ['config', 'view', '--minify', '--raw', '--kubeconfig', f, '-o', 'json'], { encoding: 'utf8' });
    const cfg = JSON.parse(out) as {
      'current-context': string;
      clusters: { name: string; cluster: { server: string; 'certificate-authority': string } }[];
      users: { name: string; user: { 'client-certificate': string; 'client-key': string } }[];
    };
    assert.equal(cfg['current-context'], 'kubelet');
    assert.equal(cfg.clusters[0]?.name, 'kubernetes');
    assert.equal(cfg.clusters[0]?.cluster.server, 'https://api.example.com:6443');
    assert.equal(cfg.clusters[0]?.cluster['certificate-authority'], '/etc/kubelet/kube-ca.pem');
    assert.equal(cfg.users[0]?.user['client-key'], '/etc/kubelet/kubelet-key.pem');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const version of ['1.8.0', '1.23']) {
  test(`the kube-dns manifests at ${version} parse as YAML with apiVersion, kind and metadata.name`, () => {
    const files = renderCluster(exampleInput('seed', version)).cluster.filter((f) => f.path.endsWith('.yml'));
    const kinds: string[] = [];
    for (const f of files) {
      for (const doc of parseAllDocuments(f.contents)) {
        assert.equal(doc.errors.length, 0, `${f.path}: ${doc.errors.map((e) => e.message).join('; ')}`);
        const o = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
        assert.equal(typeof o.apiVersion, 'string', `${f.path}: apiVersion`);
        assert.equal(typeof o.kind, 'string', `${f.path}: kind`);
        assert.equal(o.metadata?.name, 'kube-dns', `${f.path}: metadata.name`);
        assert.equal(o.metadata?.namespace, 'kube-system');
        kinds.push(`${String(o.apiVersion)} ${String(o.kind)}`);
      }
    }
    // extensions/v1beta1 Deployments stopped being served in 1.16; apps/v1 from then on
    const deployment = version === '1.8.0' ? 'extensions/v1beta1 Deployment' : 'apps/v1 Deployment';
    assert.deepEqual(kinds.sort(), ['v1 ConfigMap', 'v1 Service', 'v1 ServiceAccount', deployment].sort());
  });
}

test('the kube-dns Service takes its clusterIP and the pods their domain from the spec', () => {
  const text = exampleText('seed')
    .replace('clusterDNS: 10.32.0.10', 'clusterDNS: 10.32.0.53')
    .replace('clusterDomain: cluster.local', 'clusterDomain: k8s.example.internal');
  const cluster = parseCluster(text, 'seed.yaml');
  const files = new Map(renderCluster({ cluster, hosts: [] }).cluster.map((f) => [f.path, f.contents]));
  const svc = parseAllDocuments(files.get('kube-dns/Service.yml') ?? '')[0]?.toJS() as { spec: { clusterIP: string } };
  assert.equal(svc.spec.clusterIP, '10.32.0.53');
  const deployment = files.get('kube-dns/Deployment.yml') ?? '';
  assert.match(deployment, /- --domain=k8s\.example\.internal\.$/m);
  assert.match(deployment, /kubernetes\.default\.svc\.k8s\.example\.internal,5,A/);
  assert.doesNotMatch(deployment, /cluster\.local/);
});

test('the flannel network config for etcd parses as JSON with the pod CIDR and vxlan', () => {
  const f = renderCluster(exampleInput('seed')).cluster.find((x) => x.path.endsWith('.json'));
  assert.ok(f, 'a flannel network config is rendered');
  assert.deepEqual(JSON.parse(f.contents), { Network: '10.200.0.0/16', SubnetLen: 24, Backend: { Type: 'vxlan' } });
});

// Test double: fake PEM text, never parsed as a certificate by the renderer.
const fakeCredentials = (hosts: string[]): ClusterCredentials => ({
  caPem: 'FAKE CA PEM\n',
  etcdCaPem: 'FAKE ETCD CA PEM\n',
  kubelet: Object.fromEntries(hosts.map((h) => [h, { certPem: 'FAKE KUBELET CERT\n', keyPem: 'FAKE KUBELET KEY\n' }])),
  etcdClient: { certPem: 'FAKE ETCD CLIENT CERT\n', keyPem: 'FAKE ETCD CLIENT KEY\n' },
});

test('with credentials the post\'s certificate files are placed, private keys 0600 and marked secret', () => {
  const input = exampleInput('seed');
  const host = renderCluster({ ...input, credentials: fakeCredentials(input.hosts.map((h) => h.name)) }).hosts.values().next().value;
  assert.ok(host);
  const expected: [string, number, string][] = [
    ['/etc/kubelet/kube-ca.pem', 0o644, 'FAKE CA PEM\n'],
    ['/etc/kubelet/kubelet.pem', 0o644, 'FAKE KUBELET CERT\n'],
    ['/etc/kubelet/kubelet-key.pem', 0o600, 'FAKE KUBELET KEY\n'],
    ['/etc/flannel/etcd-ca.pem', 0o644, 'FAKE ETCD CA PEM\n'],
    ['/etc/flannel/etcd-client.pem', 0o644, 'FAKE ETCD CLIENT CERT\n'],
    ['/etc/flannel/etcd-client-key.pem', 0o600, 'FAKE ETCD CLIENT KEY\n'],
  ];
  for (const [path, mode, contents] of expected) {
    const f = fileAt(host, path);
    assert.equal(f.mode, mode, path);
    assert.equal(f.contents, contents, path);
    assert.equal(f.secret === true, mode === 0o600, `${path} secret flag`);
  }
  // without credentials no certificate file is rendered
  assert.ok(!firstHost().files.some((f) => f.path.endsWith('.pem')));
});

test('credentials without a kubelet certificate for a host are refused with exit 2', () => {
  const input = exampleInput('seed');
  assert.throws(
    () => renderCluster({ ...input, credentials: fakeCredentials(['some-other-host']) }),
    (e: unknown) => e instanceof InputError && e.exitCode === 2 && /k8s-worker-0\.example\.com/.test(e.message),
  );
});

test('the seed profile refuses containerd with exit 2 and points to the modern profile', () => {
  // the spec refuses it at validation; the renderer guards clusters built in code as well
  assert.throws(() => parseCluster(exampleText('seed').replace('runtime: docker', 'runtime: containerd'), 'seed.yaml'), /invalid cluster spec/);
  const cluster = { ...parseCluster(exampleText('seed'), 'seed.yaml'), runtime: 'containerd' as const };
  assert.throws(
    () => renderCluster({ cluster, hosts: [] }),
    (e: unknown) => isKubewrightError(e) && e.exitCode === 2 && /runtime/.test(e.message) && /profile: modern/.test(e.hint ?? ''),
  );
});

/**
 * Runs a rendered public_ip script as on a node: as root in a fresh fake root it sees as `/`
 * (test/support/fake-root.ts), so it writes /etc/kubelet/public_ip at its real path. A curl TEST
 * DOUBLE first in PATH sends DigitalOcean's metadata address to `metadataPort` on loopback.
 * Returns the exit code, stderr and the file the script wrote (undefined: none).
 */
async function runPublicIp(contents: string, metadataPort: number, env: Record<string, string>): Promise<{ code: number; stderr: string; written: string | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-public-ip-'));
  try {
    const root = join(dir, 'root');
    await makeFakeRoot(root, dir);
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await writeFile(join(root, 'usr/local/bin/public_ip'), contents, { mode: 0o755 });
    await mkdir(join(dir, 'shims'));
    await writeFile(
      join(dir, 'shims', 'curl'),
      `#!/bin/sh\n# curl TEST DOUBLE (test/render/seed.test.ts): the metadata service is a loopback server\nfor a in "$@"; do shift; case "$a" in http://169.254.169.254/*) a="http://127.0.0.1:${metadataPort}/\${a#http://169.254.169.254/}" ;; esac; set -- "$@" "$a"; done\nexec /usr/bin/curl "$@"\n`,
      { mode: 0o755 },
    );
    const r = await runConfined(root, dir, '/usr/local/bin/public_ip', { PATH: `${join(dir, 'shims')}:/usr/bin:/bin`, ...env }, 30_000);
    const written = await readFile(join(root, 'etc/kubelet/public_ip'), 'utf8').catch(() => undefined);
    return { code: r.code, stderr: r.stderr, written };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the public_ip script writes PUBLIC_IP= from the metadata service, retrying until it answers', async () => {
  const host = firstHost();
  const script = fileAt(host, '/usr/local/bin/public_ip');
  assert.equal(script.mode, 0o755);
  assert.ok(script.contents.includes(PUBLIC_IP_METADATA_URL), 'the default URL is DigitalOcean\'s metadata service');
  let requests = 0;
  // first two answers are failures, as right after boot
  const server = createServer((_req, res) => {
    requests += 1;
    if (requests <= 2) {
      res.writeHead(503).end('not yet');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('203.0.113.7');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await runPublicIp(script.contents, port, { PUBLIC_IP_ATTEMPTS: '5', PUBLIC_IP_RETRY_SECONDS: '0' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.written, 'PUBLIC_IP=203.0.113.7\n');
    assert.equal(requests, 3);
  } finally {
    server.close();
  }
});

test('the public_ip script gives up after its attempts and writes nothing when the answer is no address', async () => {
  const server = createServer((_req, res) => res.writeHead(200).end('<html>captive portal</html>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await runPublicIp(fileAt(firstHost(), '/usr/local/bin/public_ip').contents, port, { PUBLIC_IP_ATTEMPTS: '3', PUBLIC_IP_RETRY_SECONDS: '0' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /after 3 attempts/);
    assert.equal(r.written, undefined);
  } finally {
    server.close();
  }
});

test('a static host\'s known public address is written without asking any metadata service', async () => {
  const text = exampleText('seed').replace(
    /provider:\n {2}digitalocean:\n(?: {4}.*\n)+/,
    'provider:\n  static:\n    hosts:\n      - { name: w1, address: 203.0.113.21 }\n      - { name: w2, address: w2.example.com }\n',
  ).replace(/workers:\n {2}count: 3\n/, '');
  const cluster = parseCluster(text, 'seed-static.yaml');
  const hosts = renderCluster({ cluster, hosts: plannedHosts(cluster) }).hosts;
  const [w1, w2] = hosts.values();
  assert.ok(w1 && w2);
  assert.match(fileAt(w1, '/usr/local/bin/public_ip').contents, /^known='203\.0\.113\.21'$/m);
  // a host name is not an IPv4: that host asks the metadata service like a droplet
  assert.match(fileAt(w2, '/usr/local/bin/public_ip').contents, /^known=''$/m);
  // port 9 on loopback: nothing listens, so any request would fail
  const r = await runPublicIp(fileAt(w1, '/usr/local/bin/public_ip').contents, 9, { PUBLIC_IP_ATTEMPTS: '1' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.written, 'PUBLIC_IP=203.0.113.21\n');
});

test('oneshot units carry no Restart= so the post\'s Ubuntu 16.04 (systemd 229) loads them', () => {
  const oneshots = firstHost().files.filter((x) => x.path.endsWith('.service') && /^Type=oneshot$/m.test(x.contents));
  assert.deepEqual(oneshots.map((f) => f.path).sort(), ['/etc/systemd/system/etcd-lookup.service', '/etc/systemd/system/public_ip.service']);
  for (const f of oneshots) {
    assert.doesNotMatch(f.contents, /^Restart=/m, `${f.path} is a oneshot with Restart=`);
    assert.match(f.contents, /^TimeoutStartSec=0$/m, `${f.path} retries in its script, so it must not time out`);
  }
});

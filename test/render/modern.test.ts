// The modern profile's renderers: golden files for Kubernetes 1.23 and current, and proofs that
// the output is valid for the tools that read it (systemd-analyze, kubectl, containerd, YAML/JSON).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { ExitCode, KubewrightError } from '../../src/errors.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { hasUnresolvedVersion } from '../../src/render/release-binaries.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import { renderEtcdLookup } from '../../src/render/etcd-lookup.ts';
import { renderModernClusterFiles } from '../../src/render/modern/cluster-files.ts';
import { containerdConfigVersion } from '../../src/render/modern/containerd-config.ts';
import { renderModernHost } from '../../src/render/modern/host.ts';
import { deriveUnitReads } from '../../src/render/unit-reads.ts';
import { ProfileError as ModernProfileError } from '../../src/spec/profile-rules.ts';
import { modernPaths } from '../../src/render/modern/paths.ts';
import type { RenderedFile, RenderedHost, RenderInput } from '../../src/render/types.ts';
import type { ClusterCredentials } from '../../src/spec/credentials.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';
import { flagSupported, removedFlags } from '../../src/spec/matrix.ts';
import { assertGolden, renderedClusterText } from '../support/golden.ts';
import { verifyUnits } from '../support/systemd-verify.ts';

const exampleText = readFileSync(new URL('../../examples/digitalocean.yaml', import.meta.url), 'utf8');

/** examples/digitalocean.yaml with some fields replaced (a deep merge of `patch` into the spec; null removes a field). */
function spec(patch: Record<string, unknown> = {}): Cluster {
  const doc = parseYaml(exampleText) as Record<string, unknown>;
  const merge = (into: Record<string, unknown>, from: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(from)) {
      const cur = into[k];
      if (v === null) delete into[k];
      else if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)) {
        merge(cur as Record<string, unknown>, v as Record<string, unknown>);
      } else into[k] = v;
    }
  };
  merge(doc, patch);
  return parseCluster(stringifyYaml(doc), 'cluster.yaml');
}

/** The 1.23 case: static hosts (one with a private address), containerd 1.7 (config version 2), host-gw without masquerading. */
function cluster123(): Cluster {
  const c = spec({
    kubernetes: { version: '1.23' },
    provider: { digitalocean: null, static: { hosts: [{ name: 'Worker-A', address: '192.0.2.10', privateAddress: '10.110.0.10' }, { name: 'worker-b', address: '192.0.2.11' }] } },
    workers: null,
    etcd: { discovery: { digitaloceanTag: null, endpoints: ['https://10.0.0.5:2379', 'https://10.0.0.6:2379'] } },
    flannel: { backend: 'host-gw', ipMasq: false },
    versions: { containerd: '1.7.27', runc: '1.2.6', cniPlugins: '1.6.2' },
  });
  return c;
}

function renderAll(cluster: Cluster, credentials?: ClusterCredentials): ReturnType<typeof renderCluster> {
  const input: RenderInput = { cluster, hosts: plannedHosts(cluster), credentials };
  return renderCluster(input);
}

function fileAt(host: RenderedHost, path: string): RenderedFile {
  const f = host.files.find((x) => x.path === path);
  assert.ok(f, `${host.name} has no ${path}`);
  return f;
}

function firstHost(cluster: Cluster): RenderedHost {
  const h = renderAll(cluster).hosts.values().next().value;
  assert.ok(h);
  return h;
}

/** ExecStart arguments (flags) of a rendered unit. */
function execArgs(unitText: string): string[] {
  const line = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unitText)?.[1] ?? '';
  return line.split(/\s*\\\n\s*|\s+/).slice(1).filter(Boolean);
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kw-modern-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const cases = [
  { name: '1.23', cluster: cluster123 },
  { name: '1.36', cluster: () => spec() },
] as const;

for (const c of cases) {
  test(`rendering Kubernetes ${c.name} matches its golden file`, () => {
    // etcd-lookup's files come from src/render/etcd-lookup.ts (its own tests and goldens): left out
    // here so this golden pins exactly what the modern renderers produce
    const cluster = c.cluster();
    const lookup = renderEtcdLookup(cluster);
    const lookupPaths = new Set(lookup.files.map((f) => f.path));
    const rendered = renderAll(cluster);
    const own = {
      ...rendered,
      hosts: new Map([...rendered.hosts].map(([name, h]) => [name, {
        ...h,
        files: h.files.filter((f) => !lookupPaths.has(f.path)),
        units: h.units.filter((u) => u.name !== lookup.unit.name),
      }] as const)),
    };
    assertGolden('render-modern', c.name, renderedClusterText(own));
  });

  test(`every modern unit for Kubernetes ${c.name} passes systemd-analyze verify with empty stderr`, async () => {
    const host = firstHost(c.cluster());
    const names = host.units.map((u) => u.name).filter((n) => host.files.some((f) => f.path === `/etc/systemd/system/${n}`));
    assert.deepEqual(names.filter((n) => n !== 'etcd-lookup.service'), ['flanneld.service', 'containerd.service', 'kubelet.service', 'kube-proxy.service']);
    const r = await verifyUnits(host.files, names);
    assert.equal(r.stderr, '', `${r.command}\n${r.stderr}`);
    assert.equal(r.code, 0, r.command);
  });

  test(`both kubeconfigs for Kubernetes ${c.name} pass kubectl config view --minify`, async () => {
    const cluster = c.cluster();
    const host = firstHost(cluster);
    const node = host.name.toLowerCase();
    await withTempDir(async (dir) => {
      for (const [path, user] of [[modernPaths.kubeletKubeconfig, `system:node:${node}`], [modernPaths.kubeProxyKubeconfig, 'system:kube-proxy']] as const) {
        const f = join(dir, path.replaceAll('/', '_'));
        await writeFile(f, fileAt(host, path).contents);
        const r = await run('kubectl', ['config', 'view', '--minify', '--raw', '--kubeconfig', f, '-o', 'json']);
        assert.equal(r.code, 0, r.stderr);
        const view = JSON.parse(r.stdout) as { clusters: { cluster: { server: string } }[]; users: { name: string; user: Record<string, string> }[] };
        assert.equal(view.clusters[0]?.cluster.server, cluster.kubernetes.apiServer);
        assert.equal(view.users[0]?.name, user);
        assert.equal(view.users[0]?.user['client-certificate'], user === 'system:kube-proxy' ? modernPaths.kubeProxyCert : modernPaths.kubeletCert);
      }
    });
  });

  test(`the CNI conflist and flannel's network config for Kubernetes ${c.name} are the JSON flannel expects`, () => {
    const cluster = c.cluster();
    const conflist = JSON.parse(fileAt(firstHost(cluster), modernPaths.cniConflist).contents) as {
      cniVersion: string; name: string; plugins: { type: string; delegate?: Record<string, unknown>; capabilities?: Record<string, unknown> }[];
    };
    assert.equal(conflist.cniVersion, '0.3.1');
    assert.deepEqual(conflist.plugins.map((p) => p.type), ['flannel', 'portmap']);
    assert.deepEqual(conflist.plugins[0]?.delegate, { hairpinMode: true, isDefaultGateway: true });
    assert.deepEqual(conflist.plugins[1]?.capabilities, { portMappings: true });
    const net = renderModernClusterFiles({ cluster, hosts: [] }).find((f) => f.path === 'flannel/network-config.json');
    assert.deepEqual(JSON.parse(net?.contents ?? ''), {
      Network: cluster.kubernetes.podCIDR.text,
      SubnetLen: cluster.flannel.subnetLen,
      Backend: { Type: cluster.flannel.backend },
    });
  });
}

test('the CoreDNS manifests parse as YAML with the fields Kubernetes requires and a kube-dns Service at clusterDNS', () => {
  const cluster = spec({ kubernetes: { clusterDNS: '10.32.0.53', clusterDomain: 'k8s.internal' } });
  const manifests = renderModernClusterFiles({ cluster, hosts: [] }).find((f) => f.path === 'dns/coredns.yaml');
  assert.ok(manifests);
  const docs = parseAllDocuments(manifests.contents);
  assert.ok(Array.isArray(docs));
  const objects = docs.map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown>; data?: Record<string, string> };
  });
  assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service']);
  for (const o of objects) {
    assert.ok(o.apiVersion, `${o.kind} has an apiVersion`);
    assert.ok(o.metadata?.name, `${o.kind} has metadata.name`);
  }
  const service = objects.find((o) => o.kind === 'Service') as { metadata: { name: string; namespace: string }; spec: { clusterIP: string; selector: Record<string, string>; ports: { port: number; protocol: string }[] } };
  assert.equal(service.metadata.name, 'kube-dns');
  assert.equal(service.metadata.namespace, 'kube-system');
  assert.equal(service.spec.clusterIP, '10.32.0.53');
  assert.deepEqual(service.spec.ports.map((p) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP', '9153/TCP']);
  const deployment = objects.find((o) => o.kind === 'Deployment') as {
    spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } } };
  };
  assert.deepEqual(deployment.spec.selector.matchLabels, service.spec.selector, 'the Service selects the Deployment\'s pods');
  assert.deepEqual(deployment.spec.template.metadata.labels, deployment.spec.selector.matchLabels);
  assert.equal(deployment.spec.template.spec.containers[0]?.image, 'registry.k8s.io/coredns/coredns:v1.12.3');
  const corefile = objects.find((o) => o.kind === 'ConfigMap')?.data?.['Corefile'] ?? '';
  assert.match(corefile, /kubernetes k8s\.internal in-addr\.arpa ip6\.arpa \{/);
  assert.doesNotMatch(manifests.contents, /[&*]a\d/, 'no YAML anchors or aliases');
});

test('KubeletConfiguration carries DNS, x509 client CA, webhook auth, systemd cgroups and the node certificate', () => {
  for (const [cluster, minor] of [[cluster123(), 23], [spec(), 36]] as const) {
    const host = firstHost(cluster);
    const config = parseYaml(fileAt(host, modernPaths.kubeletConfig).contents) as Record<string, unknown> & {
      authentication: { anonymous: { enabled: boolean }; webhook: { enabled: boolean }; x509: { clientCAFile: string } };
      authorization: { mode: string };
    };
    assert.equal(config['apiVersion'], 'kubelet.config.k8s.io/v1beta1');
    assert.equal(config['kind'], 'KubeletConfiguration');
    assert.deepEqual(config['clusterDNS'], [cluster.kubernetes.clusterDNS]);
    assert.equal(config['clusterDomain'], cluster.kubernetes.clusterDomain);
    assert.equal(config['cgroupDriver'], 'systemd');
    assert.equal(config.authentication.x509.clientCAFile, modernPaths.kubeCa);
    assert.equal(config.authentication.anonymous.enabled, false);
    assert.equal(config.authentication.webhook.enabled, true);
    assert.equal(config.authorization.mode, 'Webhook');
    assert.equal(config['tlsCertFile'], modernPaths.kubeletCert);
    assert.equal(config['tlsPrivateKeyFile'], modernPaths.kubeletKey);
    // containerRuntimeEndpoint is a config field from 1.27; before, the kubelet takes the flag
    const args = execArgs(fileAt(host, modernPaths.kubeletUnit).contents);
    if (minor >= 27) {
      assert.equal(config['containerRuntimeEndpoint'], 'unix:///run/containerd/containerd.sock');
      assert.ok(!args.some((a) => a.startsWith('--container-runtime')), args.join(' '));
    } else {
      assert.equal(config['containerRuntimeEndpoint'], undefined);
      assert.ok(args.includes('--container-runtime-endpoint=unix:///run/containerd/containerd.sock'), args.join(' '));
      assert.ok(args.includes('--container-runtime=remote'), args.join(' '));
    }
    assert.equal(config['resolvConf'], cluster.provider.kind === 'digitalocean' ? '/run/systemd/resolve/resolv.conf' : undefined);
  }
});

test('KubeProxyConfiguration takes the proxy mode from the spec and the pod CIDR as clusterCIDR', () => {
  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    const cluster = spec({ kubernetes: { kubeProxyMode: mode, podCIDR: '10.244.0.0/16' } });
    const config = parseYaml(fileAt(firstHost(cluster), modernPaths.kubeProxyConfig).contents) as Record<string, unknown>;
    assert.equal(config['apiVersion'], 'kubeproxy.config.k8s.io/v1alpha1');
    assert.equal(config['kind'], 'KubeProxyConfiguration');
    assert.equal(config['mode'], mode);
    assert.equal(config['clusterCIDR'], '10.244.0.0/16');
    assert.deepEqual(config['clientConnection'], { kubeconfig: modernPaths.kubeProxyKubeconfig });
    assert.equal(config['hostnameOverride'], 'k8s-worker-0.example.com');
  }
});

test('containerd 1.x gets a version 2 config that Debian containerd loads with systemd cgroups and our CNI dirs', async () => {
  const host = firstHost(cluster123());
  const text = fileAt(host, modernPaths.containerdConfig).contents;
  assert.match(text, /^version = 2$/m);
  await withTempDir(async (dir) => {
    const f = join(dir, 'config.toml');
    await writeFile(f, text);
    const r = await run('containerd', ['--config', f, 'config', 'dump']);
    assert.equal(r.code, 0, r.stderr);
    // a misspelt key would silently leave containerd's default in the dump: compare the effective values
    assert.match(r.stdout, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\][^[]*SystemdCgroup = true/);
    assert.match(r.stdout, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\][^[]*BinaryName = "\/usr\/local\/sbin\/runc"/);
    assert.match(r.stdout, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.cni\][^[]*bin_dir = "\/opt\/cni\/bin"/);
    assert.match(r.stdout, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.cni\][^[]*conf_dir = "\/etc\/cni\/net\.d"/);
    assert.match(r.stdout, /sandbox_image = "registry\.k8s\.io\/pause:3\.6"/);
    assert.match(r.stdout, /address = "\/run\/containerd\/containerd\.sock"/);
    assert.match(r.stdout, /default_runtime_name = "runc"/);
  });
});

test('containerd 2.x gets a version 3 config that at least parses as containerd TOML', async () => {
  // Debian's containerd 1.6 knows no version 3 plugins (io.containerd.cri.v1.*): it can only prove
  // the TOML is well-formed; the plugin keys are pinned by the golden file (containerd 2.1 docs/cri/config.md)
  assert.equal(containerdConfigVersion('2.1.4'), 3);
  assert.equal(containerdConfigVersion('1.7.27'), 2);
  const text = fileAt(firstHost(spec()), modernPaths.containerdConfig).contents;
  assert.match(text, /^version = 3$/m);
  assert.match(text, /\[plugins\."io\.containerd\.cri\.v1\.runtime"\.containerd\.runtimes\.runc\.options\]\n(?:.*\n)*?\s*SystemdCgroup = true/);
  assert.match(text, /bin_dirs = \["\/opt\/cni\/bin"\]/, 'containerd ≥ 2.1 takes the bin_dirs list');
  const c20 = fileAt(firstHost(spec({ versions: { containerd: '2.0.5' } })), modernPaths.containerdConfig).contents;
  assert.match(c20, /bin_dir = "\/opt\/cni\/bin"/, 'containerd 2.0 still has the single bin_dir');
  await withTempDir(async (dir) => {
    const f = join(dir, 'config.toml');
    await writeFile(f, text);
    const ok = await run('containerd', ['--config', f, 'config', 'dump']);
    assert.equal(ok.code, 0, ok.stderr);
    // the check can fail: the same file with one bracket dropped is refused
    await writeFile(f, text.replace('[grpc]', '[grpc'));
    const bad = await run('containerd', ['--config', f, 'config', 'dump']);
    assert.notEqual(bad.code, 0);
  });
});

test('no kubelet or kube-proxy flag is rendered for a minor that no longer has it (1.10 … 1.36)', () => {
  for (let minor = 10; minor <= 36; minor++) {
    const host = firstHost(spec({ kubernetes: { version: `1.${minor}` } }));
    const version = { major: 1, minor };
    for (const [component, path] of [['kubelet', modernPaths.kubeletUnit], ['kube-proxy', modernPaths.kubeProxyUnit]] as const) {
      const args = execArgs(fileAt(host, path).contents);
      assert.ok(args.length > 0, `1.${minor} ${component} has flags`);
      const removed = removedFlags(component, version);
      for (const a of args) {
        assert.ok(flagSupported(component, a, version), `1.${minor}: ${component} ${a} is not supported`);
        assert.ok(!removed.includes(a.split('=')[0] ?? ''), `1.${minor}: ${component} ${a} was removed`);
      }
    }
    const kubelet = fileAt(host, modernPaths.kubeletUnit).contents;
    if (minor >= 27) assert.doesNotMatch(kubelet, /--container-runtime[=\s]/, `1.${minor}`);
    if (minor >= 24) assert.doesNotMatch(kubelet, /--network-plugin|--cni-|--docker-endpoint/, `1.${minor}`);
    assert.doesNotMatch(kubelet, /--allow-privileged/, `1.${minor}`);
  }
});

test('units start in order modules → sysctls → etcd-lookup → flanneld → containerd → kubelet → kube-proxy with the right dependencies', () => {
  const host = firstHost(spec());
  assert.deepEqual(host.units.map((u) => u.name), [
    'systemd-modules-load.service', 'systemd-sysctl.service',
    'etcd-lookup.service', 'flanneld.service', 'containerd.service', 'kubelet.service', 'kube-proxy.service',
  ]);
  const unit = (n: string): string => fileAt(host, `/etc/systemd/system/${n}`).contents;
  assert.match(unit('flanneld.service'), /^Requires=etcd-lookup\.service$/m);
  assert.match(unit('flanneld.service'), /^After=.*etcd-lookup\.service/m);
  assert.match(unit('flanneld.service'), /^EnvironmentFile=\/etc\/flannel\/etcd-members$/m);
  // containerd is ordered after flanneld but does not require it (a flanneld restart must not restart containerd)
  assert.match(unit('containerd.service'), /^After=.*flanneld\.service/m);
  assert.doesNotMatch(unit('containerd.service'), /^Requires=/m);
  assert.match(unit('kubelet.service'), /^Requires=containerd\.service flanneld\.service$/m);
  assert.match(unit('kubelet.service'), /^After=.*containerd\.service flanneld\.service/m);
  for (const n of ['flanneld.service', 'containerd.service', 'kubelet.service', 'kube-proxy.service']) {
    assert.match(unit(n), /^Restart=always$/m, n);
    assert.match(unit(n), /^RestartSec=15$/m, n);
  }
});

test('every restart trigger is a rendered file, a downloaded binary or a certificate path', () => {
  const host = firstHost(spec());
  const known = new Set([
    ...host.files.map((f) => f.path),
    ...host.binaries.map((b) => b.path),
    modernPaths.kubeCa, modernPaths.kubeletCert, modernPaths.kubeletKey, modernPaths.kubeProxyCert, modernPaths.kubeProxyKey,
    modernPaths.etcdCa, modernPaths.etcdClientCert, modernPaths.etcdClientKey,
  ]);
  // etcd-lookup's triggers (e.g. the DigitalOcean token apply places) are its module's business
  for (const u of host.units.filter((x) => x.name !== 'etcd-lookup.service')) for (const p of u.dependsOn) assert.ok(known.has(p), `${u.name}: ${p}`);
  const kubelet = host.units.find((u) => u.name === 'kubelet.service');
  assert.ok(kubelet?.dependsOn.includes(modernPaths.kubeletConfig));
  assert.ok(kubelet?.dependsOn.includes('/usr/local/bin/kubelet'));
  const containerd = host.units.find((u) => u.name === 'containerd.service');
  assert.ok(containerd?.dependsOn.includes(modernPaths.containerdConfig));
  assert.ok(!containerd?.dependsOn.includes(modernPaths.cniConflist), 'containerd watches the CNI conf dir itself');
});

test('each certificate restarts only the units whose texts lead to it', () => {
  const host = firstHost(spec());
  const users = (path: string): string[] => host.units.filter((u) => u.dependsOn.includes(path)).map((u) => u.name);
  assert.deepEqual(users(modernPaths.kubeletCert), ['kubelet.service'], 'kubelet: tlsCertFile and the kubeconfig name it');
  assert.deepEqual(users(modernPaths.kubeProxyCert), ['kube-proxy.service'], 'kube-proxy: its kubeconfig names it');
  assert.deepEqual(users(modernPaths.kubeCa), ['kubelet.service', 'kube-proxy.service']);
  assert.deepEqual(users(modernPaths.etcdClientKey), ['flanneld.service'], 'flanneld: -etcd-keyfile names it');
  assert.deepEqual(users(modernPaths.kubeletConfig), ['kubelet.service']);
});

test("the graph derived once per cluster is each node's own: every node's rendered texts give the same", () => {
  const cluster = cluster123();
  const pem = (what: string): string => `-----BEGIN TEST ${what}-----\n${what}\n-----END TEST ${what}-----\n`;
  const credentials: ClusterCredentials = {
    caPem: pem('CA'),
    kubelet: { 'Worker-A': { certPem: pem('A'), keyPem: pem('AK') }, 'worker-b': { certPem: pem('B'), keyPem: pem('BK') } },
    kubeProxy: { certPem: pem('P'), keyPem: pem('PK') },
    etcdClient: { certPem: pem('E'), keyPem: pem('EK') },
  };
  const rendered = renderAll(cluster, credentials);
  assert.equal(rendered.hosts.size, 2);
  for (const host of rendered.hosts.values()) {
    const sources = host.units.map((u) => ({ name: u.name, roots: [u.dependsOn[0]!] }));
    assert.deepEqual(deriveUnitReads(sources, host.files, host.binaries), host.units, host.name);
  }
});

test('each node gets its own kubelet identity system:node:<name>, lowercased as the kubelet does', () => {
  const rendered = renderAll(cluster123());
  const [a, b] = rendered.hosts.values();
  assert.ok(a && b);
  assert.match(fileAt(a, modernPaths.kubeletKubeconfig).contents, /^- name: system:node:worker-a$/m);
  assert.match(fileAt(b, modernPaths.kubeletKubeconfig).contents, /^- name: system:node:worker-b$/m);
  assert.ok(execArgs(fileAt(a, modernPaths.kubeletUnit).contents).includes('--hostname-override=worker-a'));
  assert.equal(fileAt(a, modernPaths.kubeProxyKubeconfig).contents, fileAt(b, modernPaths.kubeProxyKubeconfig).contents);
});

test('with credentials, certificates are rendered and private keys are secret and 0600', () => {
  const cluster = cluster123();
  const pem = (what: string): string => `-----BEGIN TEST ${what}-----\nnot a real ${what}\n-----END TEST ${what}-----\n`;
  const credentials: ClusterCredentials = {
    caPem: pem('CA'),
    etcdCaPem: pem('ETCD CA'),
    kubelet: {
      'Worker-A': { certPem: pem('A CERT'), keyPem: pem('A KEY') },
      'worker-b': { certPem: pem('B CERT'), keyPem: pem('B KEY') },
    },
    kubeProxy: { certPem: pem('PROXY CERT'), keyPem: pem('PROXY KEY') },
    etcdClient: { certPem: pem('ETCD CLIENT CERT'), keyPem: pem('ETCD CLIENT KEY') },
  };
  const host = renderAll(cluster, credentials).hosts.values().next().value;
  assert.ok(host);
  const expect: [string, string, boolean][] = [
    [modernPaths.kubeCa, pem('CA'), false],
    [modernPaths.kubeletCert, pem('A CERT'), false],
    [modernPaths.kubeletKey, pem('A KEY'), true],
    [modernPaths.kubeProxyCert, pem('PROXY CERT'), false],
    [modernPaths.kubeProxyKey, pem('PROXY KEY'), true],
    [modernPaths.etcdCa, pem('ETCD CA'), false],
    [modernPaths.etcdClientCert, pem('ETCD CLIENT CERT'), false],
    [modernPaths.etcdClientKey, pem('ETCD CLIENT KEY'), true],
  ];
  for (const [path, contents, isSecret] of expect) {
    const f = fileAt(host, path);
    assert.equal(f.contents, contents, path);
    assert.equal(f.mode, isSecret ? 0o600 : 0o644, path);
    assert.equal(f.secret === true, isSecret, path);
  }
  // every file that holds key material is marked secret
  for (const f of host.files) if (/KEY/.test(f.contents)) assert.equal(f.secret, true, f.path);
  // without credentials no certificate file is rendered, only referenced
  assert.ok(!renderAll(cluster).hosts.values().next().value?.files.some((f) => f.path.endsWith('.pem')));
});

test('a host without a kubelet certificate is refused with its name', () => {
  const cluster = cluster123();
  const credentials: ClusterCredentials = { caPem: 'ca', kubelet: { 'Worker-A': { certPem: 'c', keyPem: 'k' } } };
  assert.throws(() => renderAll(cluster, credentials), (e: unknown) => {
    assert.ok(e instanceof KubewrightError);
    assert.equal(e.host, 'worker-b');
    assert.equal(e.exitCode, ExitCode.badInput);
    assert.match(e.message, /no kubelet certificate for host worker-b/);
    return true;
  });
});

test('a minor-only version renders placeholder Kubernetes URLs; a full version renders real ones', () => {
  const unresolved = firstHost(spec()).binaries.filter(hasUnresolvedVersion).map((b) => b.name);
  assert.deepEqual(unresolved.sort(), ['kube-proxy', 'kubelet']);
  const pinned = firstHost(spec({ kubernetes: { version: '1.36.1' } }));
  assert.equal(pinned.binaries.some(hasUnresolvedVersion), false);
  assert.ok(pinned.binaries.some((b) => b.url === 'https://dl.k8s.io/release/v1.36.1/bin/linux/amd64/kubelet'));
});

test('rendering twice gives byte-identical output', () => {
  for (const c of cases) assert.equal(renderedClusterText(renderAll(c.cluster())), renderedClusterText(renderAll(c.cluster())));
});

test('spec choices the modern profile cannot render are refused with exit 2 and a fix', () => {
  const refuse = (cluster: Cluster, field: RegExp): void => {
    assert.throws(() => renderModernHost({ cluster, hosts: [] }, { name: 'w', address: undefined, port: 22, user: 'root' }), (e: unknown) => {
      assert.ok(e instanceof ModernProfileError);
      assert.equal(e.exitCode, ExitCode.badInput);
      assert.match(e.message, field);
      assert.ok(e.hint);
      return true;
    });
  };
  // the spec refuses these at validation; the renderer guards clusters built in code as well
  assert.throws(() => spec({ dns: 'kube-dns' }), /invalid cluster spec/);
  const base = spec({ kubernetes: { version: '1.23' } });
  refuse({ ...base, runtime: 'docker' }, /runtime: the modern profile runs containerd/);
  refuse({ ...base, dns: 'kube-dns' }, /dns: the modern profile deploys CoreDNS/);
  refuse({ ...base, kubernetes: { ...base.kubernetes, version: { major: 1, minor: 9, patch: undefined } } }, /needs Kubernetes ≥ 1\.10/);
  assert.throws(() => renderModernClusterFiles({ cluster: { ...base, dns: 'kube-dns' }, hosts: [] }), ModernProfileError);
});

test('IPv4 forwarding and br_netfilter are set through drop-ins that restarting the distro units applies', () => {
  const host = firstHost(spec());
  const sysctl = fileAt(host, '/etc/sysctl.d/90-kubewright.conf').contents;
  assert.match(sysctl, /^net\.ipv4\.ip_forward = 1$/m);
  assert.match(sysctl, /^net\.bridge\.bridge-nf-call-iptables = 1$/m);
  const modules = fileAt(host, '/etc/modules-load.d/kubewright.conf').contents.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(modules, ['overlay', 'br_netfilter']);
  const ipvs = fileAt(firstHost(spec({ kubernetes: { kubeProxyMode: 'ipvs' } })), '/etc/modules-load.d/kubewright.conf').contents;
  assert.match(ipvs, /^ip_vs$/m);
  assert.match(ipvs, /^ip_vs_rr$/m);
  assert.deepEqual(host.units.find((u) => u.name === 'systemd-sysctl.service')?.dependsOn, ['/etc/sysctl.d/90-kubewright.conf']);
  assert.deepEqual(host.units.find((u) => u.name === 'systemd-modules-load.service')?.dependsOn, ['/etc/modules-load.d/kubewright.conf']);
});

test('a known private address pins flannel\'s interface and the kubelet\'s node IP; an unknown one leaves both to the host', () => {
  const [a, b] = renderAll(cluster123()).hosts.values();
  assert.ok(a && b);
  assert.ok(execArgs(fileAt(a, modernPaths.flanneldUnit).contents).includes('-iface=10.110.0.10'));
  assert.ok(execArgs(fileAt(a, modernPaths.kubeletUnit).contents).includes('--node-ip=10.110.0.10'));
  assert.ok(!execArgs(fileAt(b, modernPaths.flanneldUnit).contents).some((x) => x.startsWith('-iface')));
  assert.ok(!execArgs(fileAt(b, modernPaths.kubeletUnit).contents).some((x) => x.startsWith('--node-ip')));
});

test('files shared between nodes are never shared between clusters', () => {
  const a = spec({ kubernetes: { clusterDNS: '10.32.0.10' } });
  const b = spec({ kubernetes: { clusterDNS: '10.32.0.20' } });
  const dnsOf = (c: Cluster): unknown => (parseYaml(fileAt(firstHost(c), modernPaths.kubeletConfig).contents) as Record<string, unknown>)['clusterDNS'];
  assert.deepEqual([dnsOf(a), dnsOf(b), dnsOf(a)], [['10.32.0.10'], ['10.32.0.20'], ['10.32.0.10']]);
});

// Small RenderedHost fixtures for the apply engine tests: a unit chain like the real profiles
// (flanneld → kubelet; kube-proxy), a secret key file, plain and archive-member binaries.
import type { BinarySpec, RenderedHost } from '../../src/render/types.ts';
import type { Executor } from '../../src/exec/executor.ts';
import type { CommandResult } from '../../src/exec/command-result.ts';

const tgz = 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/flannel-v0.27.4-linux-amd64.tar.gz';

export function fixtureBinaries(tag = 'v1.36.2'): BinarySpec[] {
  const k = (name: string): BinarySpec => {
    const url = `https://dl.k8s.io/release/${tag}/bin/linux/amd64/${name}`;
    return { name, url, checksumUrl: `${url}.sha256`, path: `/usr/local/bin/${name}`, mode: 0o755 };
  };
  return [{ name: 'flanneld', url: tgz, archiveMember: 'flanneld', path: '/usr/local/bin/flanneld', mode: 0o755 }, k('kubelet'), k('kube-proxy')];
}

export interface FixtureOptions {
  /** kubelet's config contents, to change one spec-like field */
  clusterDNS?: string;
  binaries?: BinarySpec[];
  /** changes the private key's contents */
  keyVersion?: number;
}

export function fixtureHost(name: string, opts: FixtureOptions = {}): RenderedHost {
  const unit = (exec: string): string => `[Unit]\nDescription=${exec}\n\n[Service]\nExecStart=${exec}\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n`;
  const binaries = opts.binaries ?? fixtureBinaries();
  return {
    name,
    files: [
      { path: '/etc/systemd/system/flanneld.service', mode: 0o644, contents: unit('/usr/local/bin/flanneld') },
      { path: '/etc/flannel/options.env', mode: 0o644, contents: `FLANNELD_IFACE=eth1\n# ${name}\n` },
      { path: '/etc/systemd/system/kubelet.service', mode: 0o644, contents: unit('/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml') },
      { path: '/var/lib/kubelet/config.yaml', mode: 0o644, contents: `kind: KubeletConfiguration\nclusterDNS: [${opts.clusterDNS ?? '10.32.0.10'}]\n` },
      { path: '/var/lib/kubelet/kubelet-key.pem', mode: 0o600, contents: `-----BEGIN PRIVATE KEY-----\nsecret-of-${name}-${opts.keyVersion ?? 1}\n-----END PRIVATE KEY-----\n`, secret: true },
      { path: '/etc/systemd/system/kube-proxy.service', mode: 0o644, contents: unit('/usr/local/bin/kube-proxy') },
    ],
    units: [
      { name: 'flanneld.service', dependsOn: ['/etc/systemd/system/flanneld.service', '/etc/flannel/options.env', '/usr/local/bin/flanneld'] },
      { name: 'kubelet', dependsOn: ['/etc/systemd/system/kubelet.service', '/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubelet-key.pem', '/usr/local/bin/kubelet'] },
      { name: 'kube-proxy.service', dependsOn: ['/etc/systemd/system/kube-proxy.service', '/usr/local/bin/kube-proxy'] },
    ],
    binaries,
  };
}

/** Counts the commands an executor runs (a decorator around a real executor, not a double). */
export class CountingExecutor implements Executor {
  readonly inner: Executor;
  commands: string[] = [];
  constructor(inner: Executor) {
    this.inner = inner;
  }
  get host(): string {
    return this.inner.host;
  }
  exec(cmd: string, opts?: Parameters<Executor['exec']>[1]): Promise<CommandResult> {
    this.commands.push(cmd);
    return this.inner.exec(cmd, opts);
  }
  put(f: Parameters<Executor['put']>[0]): Promise<void> {
    this.commands.push(`put ${f.path}`);
    return this.inner.put(f);
  }
  upload(l: string, r: string, m: number): Promise<void> {
    this.commands.push(`upload ${r}`);
    return this.inner.upload(l, r, m);
  }
  read(p: string): Promise<Buffer | undefined> {
    this.commands.push(`read ${p}`);
    return this.inner.read(p);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

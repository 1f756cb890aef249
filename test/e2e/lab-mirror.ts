// The artifacts.mirror for the lab end-to-end test: test/support/artifact-mirror.ts lays out every
// binary of `binariesFor(cluster)` with stand-ins and real checksum files; then this replaces
//   - containerd, containerd-shim-runc-v2, ctr (upstream tarball layout bin/<name>), runc and the
//     CNI plugins (./<plugin> in the upstream tgz) with Debian's real binaries from this machine;
//   - kubelet with the STAND-IN KUBELET (TEST DOUBLE, test/support/stand-in-kubelet.sh) behind a
//     prelude that takes the real kubelet's flags from the rendered unit;
//   - flanneld with the STAND-IN FLANNELD (TEST DOUBLE, ./stand-in-flanneld.sh);
// and rewrites the published checksums (or pins) for the bytes it put there.
// kube-proxy stays the sleeping stand-in of artifact-mirror.ts.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BinarySpec } from '../../src/render/types.ts';
import { buildArtifactMirror, type ArtifactMirror } from '../support/artifact-mirror.ts';

const run = promisify(execFile);
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const here = import.meta.dirname;

/** Debian's binaries (containerd, runc, containernetworking-plugins packages) by upstream name. */
export const debianBinaries: Record<string, string> = {
  'containerd': '/usr/bin/containerd',
  'containerd-shim-runc-v2': '/usr/bin/containerd-shim-runc-v2',
  'ctr': '/usr/bin/ctr',
  'runc': '/usr/sbin/runc',
};
export const debianCniDir = '/usr/lib/cni';

function mirrorPath(dir: string, url: string): string {
  const u = new URL(url);
  return join(dir, u.host, u.pathname);
}

/**
 * The kubelet binary the mirror serves: parses the kubelet flags the rendered kubelet.service
 * passes (--kubeconfig, --hostname-override, --node-ip, --config, ...) and runs the stand-in
 * kubelet with the kubeconfig and node name they name. One self-contained POSIX sh script.
 */
export async function standInKubeletBinary(kubeletVersion: string, heartbeatSeconds: number): Promise<string> {
  const standIn = await readFile(join(here, '../support/stand-in-kubelet.sh'), 'utf8');
  const body = standIn.replace(/^#!.*\n/, '');
  return `#!/bin/sh
# TEST DOUBLE: the kubelet the e2e artifact mirror serves (test/e2e/lab-mirror.ts). It accepts the
# real kubelet's flags, then runs the stand-in kubelet (test/support/stand-in-kubelet.sh, below)
# with the kubeconfig and node name they give: it registers the node from inside the machine.
kw_kubeconfig=/etc/kubernetes/kubelet.kubeconfig
kw_node=$(hostname)
kw_ip=
for kw_a in "$@"; do
  case "$kw_a" in
    --kubeconfig=*) kw_kubeconfig=\${kw_a#*=} ;;
    --hostname-override=*) kw_node=\${kw_a#*=} ;;
    --node-ip=*) kw_ip=\${kw_a#*=} ;;
    --config=*) [ -r "\${kw_a#*=}" ] || { echo "kubelet (stand-in): cannot read \${kw_a#*=}" >&2; exit 1; } ;;
    --*) ;;
    *) echo "kubelet (stand-in): unexpected argument $kw_a" >&2; exit 2 ;;
  esac
done
[ -n "$kw_ip" ] || kw_ip=$(hostname -I | cut -d' ' -f1)
set -- --kubeconfig "$kw_kubeconfig" --node-name "$kw_node" --kubelet-version ${kubeletVersion} --interval ${heartbeatSeconds} --address "$kw_ip"
# ---- test/support/stand-in-kubelet.sh ----
${body}`;
}

export interface LabMirrorOptions {
  /** the Kubernetes version stable-<minor>.txt names and the stand-in kubelet reports, e.g. 1.36.2 */
  kubernetesVersion: string;
  heartbeatSeconds: number;
}

/** Builds the mirror in `dir` for these binaries (resolved or with the v1.36.x placeholder: pass the resolved ones). */
export async function buildLabMirror(dir: string, binaries: readonly BinarySpec[], opts: LabMirrorOptions): Promise<ArtifactMirror> {
  const [major, minor] = opts.kubernetesVersion.split('.');
  const mirror = await buildArtifactMirror(dir, binaries, { stable: { minor: `${major}.${minor}`, version: `v${opts.kubernetesVersion}` } });
  const byUrl = new Map<string, BinarySpec[]>();
  for (const b of binaries) byUrl.set(b.url, [...(byUrl.get(b.url) ?? []), b]);
  const kubelet = await standInKubeletBinary(`v${opts.kubernetesVersion}`, opts.heartbeatSeconds);
  const flanneld = await readFile(join(here, 'stand-in-flanneld.sh'));

  for (const [url, specs] of byUrl) {
    const first = specs[0]!;
    const dest = mirrorPath(dir, url);
    const before = sha256(await readFile(dest));
    const names = specs.map((s) => s.name);
    if (first.archiveMember === undefined) {
      if (first.name === 'kubelet') await writeFile(dest, kubelet, { mode: 0o755 });
      else if (first.name === 'runc') await copyFile(debianBinaries['runc']!, dest);
      else if (first.name === 'flanneld') await writeFile(dest, flanneld, { mode: 0o755 });
      else continue;
    } else if (names.includes('containerd') || names.some((n) => n.startsWith('cni-') && n !== 'cni-flannel') || names.includes('flanneld')) {
      const staging = await mkdtemp(join(dir, '.e2e-archive-'));
      try {
        const members: string[] = [];
        for (const s of specs) {
          const m = join(staging, s.archiveMember!);
          await mkdir(dirname(m), { recursive: true });
          const debian = debianBinaries[s.name];
          if (debian) await copyFile(debian, m);
          else if (s.name === 'flanneld') await writeFile(m, flanneld, { mode: 0o755 });
          else if (!s.name.startsWith('cni-')) throw new Error(`e2e mirror: no replacement for ${s.name} in ${url}`);
          members.push(s.archiveMember!);
        }
        if (names.some((n) => n.startsWith('cni-'))) {
          // the upstream tgz holds every plugin as ./<plugin>: so does this one, from Debian's package
          members.length = 0;
          for (const p of (await readdir(debianCniDir)).sort()) {
            await copyFile(join(debianCniDir, p), join(staging, p));
            members.push(`./${p}`);
          }
        }
        await run('tar', ['-czf', dest, '--mtime=2020-01-01', '--owner=0', '--group=0', '--sort=name', '-C', staging, ...members], { maxBuffer: 1 << 20 });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    } else continue;
    const after = sha256(await readFile(dest));
    if (first.checksumUrl === undefined) {
      mirror.pins[url] = after;
    } else {
      const sumFile = mirrorPath(dir, first.checksumUrl);
      const text = await readFile(sumFile, 'utf8');
      if (!text.includes(before)) throw new Error(`e2e mirror: ${first.checksumUrl} does not list ${url}`);
      await writeFile(sumFile, text.replace(before, after));
    }
  }
  return mirror;
}

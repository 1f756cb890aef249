// What an earlier apply left on a loopback sshd host (test/support/sshd-hosts.ts): the kubelet's
// unit file and kubewright's manifest listing it, so a reset has something to remove.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_PATH, serializeManifest } from '../../src/phases/host-manifest.ts';

export async function plantAppliedKubelet(root: string): Promise<void> {
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
  await mkdir(join(root, 'var/lib/kubewright'), { recursive: true });
  await writeFile(join(root, 'etc/systemd/system/kubelet.service'), '[Service]\nExecStart=/usr/local/bin/kubelet\n');
  await writeFile(join(root, MANIFEST_PATH), serializeManifest({ version: 1, files: [{ path: '/etc/systemd/system/kubelet.service', kind: 'file' }], units: ['kubelet.service'], dirs: [] }));
}

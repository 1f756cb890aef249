// An artifacts.mirror holding etcd's release tarball built from Debian's real etcd and etcdctl
// (the etcd-server and etcd-client packages on this machine, 3.4.x), in the upstream layout
// (etcd-v<ver>-linux-amd64/{etcd,etcdctl}) with a SHA256SUMS beside it, the way the e2e mirror
// serves Debian's containerd (test/e2e/lab-mirror.ts). Not a test double: the binary is etcd.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BinarySpec } from '../../src/render/types.ts';

const run = promisify(execFile);
export const debianEtcd = { etcd: '/usr/bin/etcd', etcdctl: '/usr/bin/etcdctl' } as const;

/** The version of Debian's etcd, e.g. 3.4.23: the spec's versions.etcd, so the URLs name what is served. */
export async function debianEtcdVersion(): Promise<string> {
  const { stdout } = await run(debianEtcd.etcd, ['--version']);
  const m = /etcd Version: (\S+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`etcd --version said: ${stdout}`);
  return m[1];
}

const mirrorPath = (dir: string, url: string): string => join(dir, new URL(url).host, new URL(url).pathname);

export async function buildEtcdMirror(dir: string, binaries: readonly BinarySpec[]): Promise<void> {
  const url = binaries[0]!.url;
  await mkdir(dir, { recursive: true });
  const staging = await mkdtemp(join(dir, '.etcd-'));
  try {
    for (const b of binaries) {
      const from = debianEtcd[b.name as keyof typeof debianEtcd];
      if (b.url !== url || !from || !b.archiveMember) throw new Error(`etcd mirror: unexpected ${b.name} ${b.url}`);
      await mkdir(dirname(join(staging, b.archiveMember)), { recursive: true });
      await copyFile(from, join(staging, b.archiveMember));
    }
    const dest = mirrorPath(dir, url);
    await mkdir(dirname(dest), { recursive: true });
    await run('tar', ['-czf', dest, '--mtime=2020-01-01', '--owner=0', '--group=0', '--sort=name', '-C', staging, ...binaries.map((b) => b.archiveMember!)]);
    const digest = createHash('sha256').update(await readFile(dest)).digest('hex');
    await writeFile(mirrorPath(dir, binaries[0]!.checksumUrl!), `${digest}  ${url.split('/').pop()}\n`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

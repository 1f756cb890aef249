// One cgroup per lab machine. With --register=no --keep-unit and no systemd on the host, nspawn
// nests its payload inside the caller's cgroup; machines sharing one race each other's unit
// cgroups (random status=219/CGROUP failures, REAL-INFRA.md §4), so each gets its own.
import { existsSync, readFileSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The roots under which to create a machine's cgroup: `<hierarchy><caller's cgroup>/<group>`. */
export function labCgroupRoots(group: string, procSelfCgroup = readFileSync('/proc/self/cgroup', 'utf8')): string[] {
  const lines = procSelfCgroup.split('\n').map((l) => l.split(':'));
  const pathOf = (pred: (f: string[]) => boolean): string => (lines.find(pred)?.[2] ?? '/').replace(/\/$/, '');
  if (existsSync('/sys/fs/cgroup/systemd/cgroup.procs')) {
    // cgroup v1 / hybrid: the name=systemd hierarchy, plus the (empty) unified one when mounted
    const roots = [`/sys/fs/cgroup/systemd${pathOf((f) => f[1] === 'name=systemd')}/${group}`];
    if (existsSync('/sys/fs/cgroup/unified/cgroup.procs')) roots.push(`/sys/fs/cgroup/unified${pathOf((f) => f[0] === '0')}/${group}`);
    return roots;
  }
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [`/sys/fs/cgroup${pathOf((f) => f[0] === '0')}/${group}`];
  return [];
}

/** Removes a cgroup tree deepest first; only empty cgroups can go, so a live process keeps its own. */
export async function removeCgroupTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  }
  await rmdir(dir).catch(() => undefined);
}

// Writes a rendered cluster to disk, one folder per host mirroring target paths plus cluster/.
// The tree is built beside the target and swapped in with renames, so readers never see a mix.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import type { RenderedCluster, RenderedFile } from '../render/types.ts';

export const RENDER_MARKER = '.kubewright-render';

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

async function writeFiles(root: string, files: RenderedFile[]): Promise<void> {
  for (const f of files) {
    const target = join(root, f.path.replace(/^\/+/, ''));
    if (!resolve(target).startsWith(resolve(root) + '/')) throw new InputError(`render: refusing path outside the output tree: ${f.path}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.contents, { mode: f.mode });
  }
}

/** Returns the number of files written. Refuses a non-empty directory kubewright did not write. */
export async function writeRenderedTree(outDir: string, rendered: RenderedCluster): Promise<number> {
  const out = resolve(outDir);
  if (await exists(out)) {
    const entries = await readdir(out);
    if (entries.length > 0 && !entries.includes(RENDER_MARKER)) {
      throw new InputError(`render: ${outDir} exists and was not written by kubewright`, {
        hint: 'choose an empty or new --out directory; kubewright only replaces trees it rendered',
      });
    }
  }
  const tag = randomBytes(4).toString('hex');
  const staging = join(dirname(out), `.${basename(out)}.new-${tag}`);
  let count = 0;
  try {
    await mkdir(staging, { recursive: true });
    for (const host of rendered.hosts.values()) {
      await writeFiles(join(staging, host.name), host.files);
      count += host.files.length;
    }
    await mkdir(join(staging, 'cluster'), { recursive: true });
    await writeFiles(join(staging, 'cluster'), rendered.cluster);
    count += rendered.cluster.length;
    await writeFiles(staging, rendered.root ?? []);
    count += rendered.root?.length ?? 0;
    await writeFile(join(staging, RENDER_MARKER), 'written by kubewright render; safe to delete\n');
    if (await exists(out)) {
      const old = join(dirname(out), `.${basename(out)}.old-${tag}`);
      await rename(out, old);
      await rename(staging, out);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(staging, out);
    }
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  return count;
}

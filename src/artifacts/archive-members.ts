// Extracts the members a cluster needs from a verified release archive, all in one tar run, and
// accepts only regular files: a symlink member (pointing at, say, /etc/shadow on this machine), a
// hard link, a directory or a path leading through a symlink is refused before anything is read.
import { execFile } from 'node:child_process';
import { lstat, mkdtemp, realpath, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { ArchiveMemberError, ArtifactFetchError } from './artifact-errors.ts';
import { sha256File } from './sha256-file.ts';

const run = promisify(execFile);

export interface ExtractedMember {
  member: string;
  /** the extracted file inside the returned directory */
  path: string;
  sha256: string;
}

/** `./bridge` and `bridge` name the same member; the cache keys on the bare form. */
export function memberKey(member: string): string {
  return member.replace(/^(\.\/)+/, '');
}

/**
 * Extracts `members` of `archive` (artifact `url`, for messages) into a new directory under
 * `parent` with one tar invocation; the caller removes the directory. Throws ArchiveMemberError
 * for a member that is missing or not a regular file.
 */
export async function extractMembers(archive: string, url: string, members: readonly string[], parent: string): Promise<{ dir: string; files: ExtractedMember[] }> {
  const dir = await mkdtemp(join(parent, '.extract-'));
  try {
    // GNU tar detects gzip by itself when reading a file; owners and modes come from us, not the archive
    await run('tar', ['-xf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions', '--', ...members]).catch((e: { stderr?: string }) => {
      const stderr = (e.stderr ?? '').trim();
      const missing = members.find((m) => stderr.includes(`${m}: Not found in archive`));
      if (missing) throw new ArchiveMemberError(url, missing, 'is not in the archive');
      throw new ArtifactFetchError(url, `members ${members.join(', ')} cannot be extracted: ${stderr || 'tar failed'}`, e);
    });
    const realDir = await realpath(dir);
    const files: ExtractedMember[] = [];
    for (const member of members) {
      const path = join(dir, memberKey(member));
      const st = await lstat(path).catch(() => undefined);
      if (!st) throw new ArchiveMemberError(url, member, 'is not in the archive');
      if (st.isSymbolicLink()) throw new ArchiveMemberError(url, member, 'is a symbolic link, not a regular file');
      if (!st.isFile()) throw new ArchiveMemberError(url, member, 'is not a regular file');
      if (st.nlink > 1) throw new ArchiveMemberError(url, member, 'is a hard link, not a regular file');
      // a parent directory that is a symlink would have placed the file outside the extraction directory
      const rel = relative(realDir, await realpath(dirname(path)));
      if (rel.startsWith('..')) throw new ArchiveMemberError(url, member, 'lies behind a symbolic link');
      files.push({ member, path, sha256: await sha256File(path) });
    }
    return { dir, files };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

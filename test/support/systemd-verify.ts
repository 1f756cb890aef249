// Runs `systemd-analyze verify` on rendered units inside a throwaway fake root (REAL-INFRA.md §3):
// the distro units copied in (DefaultDependencies pull sysinit.target & co.), the rendered files
// written at their paths, a stub executable for every Exec* binary the files don't provide, and a
// stub unit for every Requires=/Requisite=/BindsTo=/Wants= target that is neither rendered nor a
// distro unit. Strict mode (`--recursive-errors=yes`) turns unknown keys into exit 1; callers must
// still assert that stderr is empty, since some warnings keep exit 0.
import { execFile } from 'node:child_process';
import { access, chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../../src/render/types.ts';

export interface VerifyResult {
  code: number;
  stdout: string;
  stderr: string;
  /** the command line that ran (the fake root is gone by the time you read this) */
  command: string;
}

const DISTRO_UNITS = '/usr/lib/systemd/system';
const UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system', '/run/systemd/system'];
const EXEC_KEYS = /^(ExecStart|ExecStartPre|ExecStartPost|ExecStop|ExecStopPost|ExecReload|ExecCondition)=(.*)$/;
const DEP_KEYS = /^(Requires|Requisite|BindsTo|Wants|PartOf)=(.*)$/;

/** Unit file lines with `\` continuations joined. */
function logicalLines(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
}

function execBinaries(unitText: string): string[] {
  const out: string[] = [];
  for (const line of logicalLines(unitText)) {
    const m = EXEC_KEYS.exec(line);
    if (!m || m[2] === undefined) continue;
    // a leading `-` means failure is ignored: systemd-analyze does not check those binaries
    const cmd = m[2].trim();
    if (cmd === '' || /^[@:+!|]*-/.test(cmd)) continue;
    const bin = cmd.replace(/^[@:+!|]+/, '').split(/\s+/)[0];
    if (bin) out.push(bin);
  }
  return out;
}

function dependencies(unitText: string): string[] {
  return logicalLines(unitText).flatMap((line) => {
    const m = DEP_KEYS.exec(line);
    return m?.[2] ? m[2].split(/\s+/).filter(Boolean) : [];
  });
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== 'number' && !stderr ? String(err) : stderr });
    });
  });
}

function findUnit(files: readonly RenderedFile[], name: string): RenderedFile | undefined {
  return files.find((f) => UNIT_DIRS.some((d) => f.path === `${d}/${name}`));
}

/**
 * Verifies `unitNames` (e.g. ['kubelet.service']) as rendered in `files`. Returns rc, stdout and
 * stderr of one `systemd-analyze verify` run over all of them.
 */
export async function verifyUnits(files: readonly RenderedFile[], unitNames: readonly string[]): Promise<VerifyResult> {
  const root = await mkdtemp(join(tmpdir(), 'kw-verify-'));
  try {
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await cp(DISTRO_UNITS, join(root, DISTRO_UNITS), { recursive: true, verbatimSymlinks: true });
    for (const f of files) {
      const target = join(root, f.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.contents);
      await chmod(target, f.mode);
    }
    const units = unitNames.map((n) => ({ name: n, file: findUnit(files, n) }));
    for (const u of units) {
      if (!u.file) continue;
      for (const bin of execBinaries(u.file.contents)) {
        // relative names are searched in PATH inside the root
        const target = join(root, bin.startsWith('/') ? bin : `/usr/bin/${bin}`);
        if (await exists(target)) continue;
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, '#!/bin/sh\n# stub executable (test double) for systemd-analyze verify\n', { mode: 0o755 });
      }
      for (const dep of dependencies(u.file.contents)) {
        if (findUnit(files, dep) || (await exists(join(root, DISTRO_UNITS, dep)))) continue;
        const stub = dep.endsWith('.service')
          ? '[Unit]\nDescription=stub (test double)\n\n[Service]\nExecStart=/usr/bin/true\n'
          : '[Unit]\nDescription=stub (test double)\n';
        await writeFile(join(root, 'etc/systemd/system', dep), stub);
        const t = join(root, 'usr/bin/true');
        if (!(await exists(t))) {
          await mkdir(dirname(t), { recursive: true });
          await writeFile(t, '#!/bin/sh\n', { mode: 0o755 });
        }
      }
    }
    const args = ['verify', '--man=no', '--recursive-errors=yes', `--root=${root}`, ...unitNames];
    const r = await run('systemd-analyze', args);
    // messages carry the temp root's path; strip it so callers can match and print stable text
    const strip = (s: string): string => s.split(root).join('');
    return { code: r.code, stdout: strip(r.stdout), stderr: strip(r.stderr), command: `systemd-analyze ${args.join(' ')}` };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

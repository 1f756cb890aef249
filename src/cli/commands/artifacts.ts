// `kubewright artifacts fetch`: fills an air-gapped mirror with the spec's release artifacts.
import { Option, type Command } from 'commander';
import { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { artifactCacheDir } from '../../artifacts/cache-dir.ts';
import { fillMirror } from '../../artifacts/fill-mirror.ts';
import { lockArtifacts } from '../../artifacts/lock-artifacts.ts';
import { ArtifactLock, lockfilePathFor } from '../../artifacts/lockfile.ts';
import { specPath } from '../../spec/spec-path.ts';
import type { Arch } from '../../render/release-binaries.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import type { Io } from '../io.ts';
import { formatTable } from '../table.ts';

/** The source to copy from: --from (`upstream` for none), else the spec's artifacts.mirror (relative to the spec). */
function sourceMirror(cluster: Cluster, from: string | undefined): string | null {
  const m = from === undefined ? cluster.artifacts.mirror : from === 'upstream' ? null : from;
  if (m === null || m === '' || /^https?:\/\//i.test(m)) return m || null;
  const dir = m.startsWith('file://') ? decodeURIComponent(new URL(m).pathname) : m;
  return from === undefined ? specPath(cluster, dir) : dir;
}

export function registerArtifacts(program: Command, io: Io): void {
  const artifacts = program
    .command('artifacts')
    .description('release artifacts (binaries) the workers install')
    .addHelpText('after', `
Example:
  kubewright artifacts fetch -f cluster.yaml --to /srv/mirror
`);
  artifacts
    .command('fetch')
    .description('download and verify every release artifact of the spec into a mirror directory (<dir>/<upstream host>/<upstream path>)')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .requiredOption('--to <dir>', 'mirror directory to fill (created); point artifacts.mirror at it afterwards')
    .option('--from <mirror>', 'where to copy from: a mirror directory or http(s) base URL, or "upstream" (default: the spec\'s artifacts.mirror, else upstream)')
    .addOption(new Option('--arch <arch...>', 'architectures to fetch').choices(['amd64', 'arm64']).default(['amd64']))
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Each artifact is checked against its published checksum (or its pin in artifacts.checksums)
before anything is written; its checksum file is written beside it (a generated <file>.sha256
for pinned artifacts), plus dl.k8s.io/release/stable-<minor>.txt when the spec names only a minor.
Files that already hold the right bytes are left alone. Exit 1 on a checksum mismatch.

Example:
  kubewright artifacts fetch -f cluster.yaml --to /srv/mirror
`,
    )
    .action(async (opts: { file: string; to: string; from?: string; arch: Arch[]; output: OutputFormat }) => {
      const cluster = await loadClusterFile(opts.file);
      // artifacts first fetched here are recorded in the spec's lockfile, as apply would
      const lock = await ArtifactLock.load(lockfilePathFor(cluster.sourceFile), { persist: true });
      const store = new ArtifactStore({ mirror: sourceMirror(cluster, opts.from), pins: cluster.artifacts.checksums, cacheDir: artifactCacheDir(), lock });
      const result = await fillMirror(cluster, { store, to: opts.to, arches: opts.arch, pins: cluster.artifacts.checksums });
      if (opts.output === 'json') {
        io.out(JSON.stringify({ to: opts.to, kubernetesVersion: result.kubernetesVersion ?? null, files: result.files }, null, 2));
        return;
      }
      for (const l of formatTable(result.files.map((f) => [f.status, f.url]), { gap: 1 })) io.out(l);
      const fetched = result.files.filter((f) => f.status === 'fetched').length;
      io.out(`${fetched} of ${result.files.length} files written to ${opts.to} (the rest unchanged)`);
    });
  artifacts
    .command('lock')
    .description('download, verify and record every artifact of the spec in its lockfile (<spec>.lock beside the spec)')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--update', 'rebuild the lockfile from the sources as they are now: the way to change a recorded entry on purpose', false)
    .option('--from <mirror>', 'where to download from: a mirror directory or http(s) base URL, or "upstream" (default: the spec\'s artifacts.mirror, else upstream)')
    .addOption(new Option('--arch <arch...>', 'architectures to lock (default: those already in the lockfile, else amd64)').choices(['amd64', 'arm64']))
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The lockfile records each artifact's URL, sha256 and size, the sha256 of every archive member
kubewright installs, and the patch release a minor-only kubernetes.version resolved to. apply
records artifacts there when it first fetches them; later runs verify against it instead of the
checksum files served beside the artifacts. Commit it with the spec. A recorded entry changes only
with --update, which prints what changed. Exit 1 if an artifact does not match its entry.

Example:
  kubewright artifacts lock -f cluster.yaml --arch amd64 arm64
  kubewright artifacts lock -f cluster.yaml --update
`,
    )
    .action(async (opts: { file: string; update: boolean; from?: string; arch?: Arch[]; output: OutputFormat }) => {
      const cluster = await loadClusterFile(opts.file);
      const result = await lockArtifacts(cluster, {
        path: lockfilePathFor(cluster.sourceFile), mirror: sourceMirror(cluster, opts.from), cacheDir: artifactCacheDir(), update: opts.update, arches: opts.arch,
      });
      if (opts.output === 'json') {
        io.out(JSON.stringify(result, null, 2));
        return;
      }
      const sign = { added: '+', changed: '~', removed: '-' } as const;
      for (const c of result.changes) {
        const what = c.kind === 'kubernetes' ? `kubernetes ${c.key}` : c.key;
        io.out(`${sign[c.change]} ${what}${c.change === 'changed' ? ` ${c.old} → ${c.new}` : ` ${c.new ?? c.old}`}`);
      }
      io.out(result.written ? `${result.path}: ${result.changes.length} change(s) for ${result.arches.join(', ')} (commit it with the spec)` : `${result.path}: up to date for ${result.arches.join(', ')}`);
    });
  for (const c of artifacts.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
}

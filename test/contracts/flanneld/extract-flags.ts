// Lists the command-line flags flanneld registers in main.go (`flannelFlags.<Type>Var(&opts.x,
// "name", …)`) at the given release tags of github.com/flannel-io/flannel (Apache-2.0), with the
// commit of each tag, for the version oracle's flanneld check.
//
// Usage: node --import tsx test/contracts/flanneld/extract-flags.ts <flannel git dir> v0.9.0 v0.27.4 > test/contracts/flanneld/flags.json
import { execFileSync } from 'node:child_process';

export interface FlanneldFlags {
  source: string;
  versions: Record<string, { commit: string; flags: string[] }>;
}

export function flagsOf(mainGo: string): string[] {
  return [...mainGo.matchAll(/flannelFlags\.\w+\(&opts\.\w+, "([^"]+)"/g)].map((m) => m[1] ?? '').sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [, , gitDir, ...tags] = process.argv;
  if (!gitDir || tags.length === 0) {
    process.stderr.write('usage: extract-flags.ts <flannel git dir> <tag>...\n');
    process.exit(2);
  }
  const git = (...args: string[]): string => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' });
  const out: FlanneldFlags = { source: 'github.com/flannel-io/flannel main.go', versions: {} };
  for (const tag of tags) out.versions[tag] = { commit: git('rev-parse', `${tag}^{commit}`).trim(), flags: flagsOf(git('show', `${tag}:main.go`)) };
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}

// The gather phase: ONE command per host reports OS, arch, systemd, free disk, sha256 + mode of
// every managed file and binary, missing directories, leftover temp files, and the state and
// invocation id of every managed unit. A no-op apply costs exactly this round trip.
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import { tempMarker } from '../exec/temp-name.ts';
import type { RenderedHost } from '../render/types.ts';
import type { FileFact, HostFacts, UnitFact } from './host-facts.ts';
import { unitName } from '../render/unit-file.ts';

export function managedPaths(desired: RenderedHost): string[] {
  return [...new Set([...desired.files.map((f) => f.path), ...desired.binaries.map((b) => b.path)])];
}

export function managedDirs(desired: RenderedHost): string[] {
  const dirs = new Set<string>();
  for (const p of managedPaths(desired)) dirs.add(p.slice(0, p.lastIndexOf('/')) || '/');
  return [...dirs].sort();
}

/** The shell script gather runs; paths carry the executor's root prefix. */
export function gatherScript(x: Pick<Executor, 'path'>, desired: RenderedHost): string {
  const q = (p: string): string => shellQuote(x.path(p));
  const paths = managedPaths(desired).map(q).join(' ');
  const dirs = managedDirs(desired).map(q).join(' ');
  const units = [...new Set(desired.units.map((u) => unitName(u.name)))].map(shellQuote).join(' ');
  return [
    'export LC_ALL=C',
    'echo "@arch $(uname -m)"',
    `echo "@os $( (. ${q('/etc/os-release')} 2>/dev/null && echo "$ID $VERSION_ID") )"`,
    'echo "@systemd $(systemctl --version 2>/dev/null | head -n1)"',
    `echo "@df $(df -Pk ${q('/')} 2>/dev/null | awk 'NR==2{print $4}')"`,
    ...(paths ? [`echo @sha; sha256sum -- ${paths} 2>/dev/null`, `echo @mode; stat -c '%a %n' -- ${paths} 2>/dev/null`] : []),
    ...(dirs ? [`echo @dirs; for d in ${dirs}; do [ -d "$d" ] || echo "$d"; done`, `echo @tmp; find ${dirs} -maxdepth 1 -name '.*${tempMarker}*' 2>/dev/null`] : []),
    ...(units ? [`echo @units; systemctl show --no-pager -p Id,ActiveState,InvocationID,ActiveEnterTimestamp,UnitFileState,ConditionResult -- ${units} 2>/dev/null`] : []),
    'echo @end',
  ].join('\n');
}

function stripRoot(root: string, p: string): string {
  return root && p.startsWith(`${root}/`) ? p.slice(root.length) : p;
}

/** Parses gather's output. */
export function parseFacts(stdout: string, root: string, desired: RenderedHost): HostFacts {
  const facts: HostFacts = { os: '', arch: '', systemd: '', freeDiskKb: 0, files: new Map(), missingDirs: new Set(), tempFiles: [], units: new Map() };
  const shas = new Map<string, string>();
  const modes = new Map<string, number>();
  let section = '';
  let unit: Record<string, string> = {};
  const flushUnit = (): void => {
    if (unit['Id']) {
      const u: UnitFact = {
        activeState: unit['ActiveState'] ?? '',
        invocationId: unit['InvocationID'] ?? '',
        activeEnterTimestamp: unit['ActiveEnterTimestamp'] ?? '',
        unitFileState: unit['UnitFileState'] ?? '',
        conditionResult: unit['ConditionResult'] ?? '',
      };
      facts.units.set(unit['Id'], u);
    }
    unit = {};
  };
  for (const line of stdout.split('\n')) {
    const head = /^@(\w+)(?: (.*))?$/.exec(line);
    if (head) {
      if (section === 'units') flushUnit();
      const [, key = '', value = ''] = head;
      if (key === 'arch') facts.arch = value;
      else if (key === 'os') facts.os = value.trim();
      else if (key === 'systemd') facts.systemd = value;
      else if (key === 'df') facts.freeDiskKb = Number(value) || 0;
      section = key;
      continue;
    }
    if (section === 'sha') {
      const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
      if (m) shas.set(stripRoot(root, m[2]!), m[1]!);
    } else if (section === 'mode') {
      const m = /^([0-7]+) (.*)$/.exec(line);
      if (m) modes.set(stripRoot(root, m[2]!), parseInt(m[1]!, 8));
    } else if (section === 'dirs' && line) facts.missingDirs.add(stripRoot(root, line));
    else if (section === 'tmp' && line) facts.tempFiles.push(stripRoot(root, line));
    else if (section === 'units') {
      if (line === '') flushUnit();
      else {
        const i = line.indexOf('=');
        if (i > 0) unit[line.slice(0, i)] = line.slice(i + 1);
      }
    }
  }
  for (const p of managedPaths(desired)) {
    const sha = shas.get(p);
    const mode = modes.get(p);
    if (sha !== undefined && mode !== undefined) facts.files.set(p, { sha256: sha, mode } satisfies FileFact);
  }
  return facts;
}

export async function gatherFacts(x: Executor, desired: RenderedHost): Promise<HostFacts> {
  const r = await x.exec(gatherScript(x, desired));
  return parseFacts(r.stdout, x.root, desired);
}

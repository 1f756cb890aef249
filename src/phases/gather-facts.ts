// The gather phase: ONE command per host reports OS, arch, systemd, free disk, the preflight facts
// (swap, kernel modules, ip_forward, cgroup, time sync, port 10250; waiting for cloud-init), the manifest
// kubewright recorded there, stat data + mode of every managed file and binary, missing
// directories, leftover temp files, and the state and invocation id of every managed unit. A
// no-op apply costs exactly this round trip.
//
// Files are hashed only when their stat line (inode, size, mtime, ctime, mode) differs from the
// one the manifest recorded with their sha256, as rsync's quick check and git's index do; an
// edit behind kubewright's back changes ctime even when it restores size and mtime. `checksum`
// hashes every file regardless. The hasher is `openssl dgst -sha256` where the host has it (it
// uses SHA-NI; coreutils' sha256sum does not), else sha256sum.
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import { tempMarker } from '../exec/temp-name.ts';
import type { RenderedHost } from '../render/types.ts';
import type { FileFact, HostFacts, PreflightFacts, UnitFact } from './host-facts.ts';
import { MANIFEST_PATH, ManifestParseError, parseManifest, parseStatLine, sameStat, STAT_FORMAT, type FileStat, type HostManifest } from './host-manifest.ts';
import { unitName } from '../render/unit-file.ts';

export interface GatherOptions {
  /** hash every managed file, trusting no recorded stat (`--checksum`) */
  checksum?: boolean | undefined;
  /** parse: when the output arrived (this machine's clock), to tell the host's clock skew */
  receivedAtMs?: number | undefined;
}

export function managedPaths(desired: RenderedHost): string[] {
  return [...new Set([...desired.files.map((f) => f.path), ...desired.binaries.map((b) => b.path)])];
}

export function managedDirs(desired: RenderedHost): string[] {
  const dirs = new Set<string>();
  for (const p of managedPaths(desired)) dirs.add(p.slice(0, p.lastIndexOf('/')) || '/');
  return [...dirs].sort();
}

/** The managed directories and all their ancestors below `/`: what `mkdir -p` may create. */
export function managedDirsWithAncestors(desired: RenderedHost): string[] {
  const dirs = new Set<string>();
  for (const d of managedDirs(desired)) {
    for (let p = d; p !== '/' && p !== ''; p = p.slice(0, p.lastIndexOf('/'))) dirs.add(p);
  }
  return [...dirs].sort();
}

/** How long gather waits for cloud-init to finish on a host it is still setting up (a new droplet). */
export const CLOUD_INIT_WAIT_SEC = 300;

/**
 * Waits (at most CLOUD_INIT_WAIT_SEC) for cloud-init to finish where it ran this boot (/run/cloud-init
 * exists: a droplet) and prints its `status:` line; prints nothing elsewhere.
 */
export const CLOUD_INIT_WAIT = `if [ -d /run/cloud-init ] && command -v cloud-init >/dev/null 2>&1; then timeout ${CLOUD_INIT_WAIT_SEC} cloud-init status --wait 2>/dev/null | sed -n 's/^status: //p' | tail -n1; fi`;

// The preflight facts (preflight.ts), in the same round trip.
function preflightScript(q: (p: string) => string, desired: RenderedHost): string[] {
  const binDir = desired.binaries[0]?.path.replace(/\/[^/]*$/, '') || '/usr/local/bin';
  return [
    `echo "@epoch $(date +%s)"`,
    `echo "@swap $(awk 'NR>1{n++} END{print n+0}' /proc/swaps 2>/dev/null)"`,
    `echo "@brnf $([ -d /proc/sys/net/bridge ] && echo yes || echo no)"`,
    `echo "@overlay $(grep -qw overlay /proc/filesystems 2>/dev/null && echo yes || echo no)"`,
    'echo "@ipforward $(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)"',
    'echo "@cgroupfs $(stat -fc %T /sys/fs/cgroup 2>/dev/null)"',
    'echo "@ntp $(timedatectl show -p NTPSynchronized --value 2>/dev/null)"',
    `d=${q(binDir)}; while [ ! -d "$d" ]; do d=$(dirname -- "$d"); done; echo "@dfbin $(df -Pk -- "$d" 2>/dev/null | awk 'NR==2{print $4}') $d"`,
    'echo "@port10250 $(ss -Htlnp \'sport = :10250\' 2>/dev/null | head -n1)"',
    'echo "@kubeletpid $(systemctl show -p MainPID --value kubelet.service 2>/dev/null)"',
    // /run/cloud-init exists only where cloud-init ran this boot (a droplet): wait for it to finish
    // before anything is read or written, so apply never races its package installs
    `if [ -d /run/cloud-init ] && command -v cloud-init >/dev/null 2>&1; then echo "@cloudinit $(${CLOUD_INIT_WAIT})"; fi`,
  ];
}

/** The shell script gather runs. */
export function gatherScript(desired: RenderedHost, opts: GatherOptions = {}): string {
  const q = shellQuote;
  const paths = managedPaths(desired).map(q).join(' ');
  const dirs = managedDirs(desired).map(q).join(' ');
  // an interrupted manifest write leaves its temp file beside the manifest
  const tempDirs = [...new Set([...managedDirs(desired), MANIFEST_PATH.slice(0, MANIFEST_PATH.lastIndexOf('/'))])].map(q).join(' ');
  const allDirs = managedDirsWithAncestors(desired).map(q).join(' ');
  const units = [...new Set(desired.units.map((u) => unitName(u.name)))].map(shellQuote).join(' ');
  // stat lines that are not, verbatim, the start of a manifest line: those files are hashed
  const changedFilter = `awk -v m="${opts.checksum ? '/dev/null' : '$M'}" 'BEGIN { while ((getline l < m) > 0) t = t l "\\n" } $0 != "" && index(t, $0) == 0 { p = $0; sub(/^\\{"path":"/, "", p); sub(/","inode":[0-9]+,"size":[0-9]+,"mtime".*$/, "", p); print p }'`;
  return [
    'export LC_ALL=C',
    `M=${q(MANIFEST_PATH)}`,
    'echo "@arch $(uname -m)"',
    `echo "@os $( (. ${q('/etc/os-release')} 2>/dev/null && echo "$ID $VERSION_ID") )"`,
    'echo "@systemd $(systemctl --version 2>/dev/null | head -n1)"',
    `echo "@df $(df -Pk ${q('/')} 2>/dev/null | awk 'NR==2{print $4}')"`,
    ...preflightScript(q, desired),
    'if command -v openssl >/dev/null 2>&1; then H=openssl; else H=sha256sum; fi',
    'echo "@hasher $H"',
    'echo @manifest; if [ -f "$M" ]; then cat -- "$M"; echo; fi',
    // which of the paths the manifest lists still exist (prune's candidates)
    'echo @present; if [ -f "$M" ]; then sed -n \'s/^{"path":"\\([^"]*\\)".*/\\1/p\' "$M" | while IFS= read -r p; do [ -e "$p" ] && printf \'%s\\n\' "$p"; done; fi',
    ...(paths
      ? [
          `S=$(stat -c '${STAT_FORMAT}' -- ${paths} 2>/dev/null)`,
          'echo @stat; printf \'%s\\n\' "$S"',
          `C=$(printf '%s\\n' "$S" | ${changedFilter})`,
          'echo @sha',
          'if [ -n "$C" ]; then set --; while IFS= read -r p; do set -- "$@" "$p"; done <<KW_EOF',
          '$C',
          'KW_EOF',
          'if [ "$H" = openssl ]; then openssl dgst -sha256 -r "$@"; else sha256sum -- "$@"; fi 2>/dev/null; fi',
        ]
      : []),
    ...(dirs ? [`echo @dirs; for d in ${allDirs}; do [ -d "$d" ] || echo "$d"; done`, `echo @tmp; find ${tempDirs} -maxdepth 1 -name '.*${tempMarker}*' 2>/dev/null`] : []),
    // units the manifest lists are asked about too (prune stops and disables them)
    'U=$(if [ -f "$M" ]; then sed -n \'1s/^.*"units":\\[\\([^]]*\\)\\].*$/\\1/p\' "$M" | tr -d \'"\' | tr \',\' \' \'; fi)',
    `echo @units; systemctl show --no-pager -p Id,LoadState,ActiveState,InvocationID,ActiveEnterTimestamp,UnitFileState,ConditionResult -- ${units} $U 2>/dev/null`,
    'echo @end',
  ].join('\n');
}

const preflightKeys = { epoch: 1, swap: 1, brnf: 1, overlay: 1, ipforward: 1, cgroupfs: 1, ntp: 1, dfbin: 1, port10250: 1, kubeletpid: 1, cloudinit: 1 };

function preflightFacts(v: Record<string, string>, receivedAtMs: number | undefined): PreflightFacts | undefined {
  if (v['swap'] === undefined) return undefined;
  const [free = '', ...dir] = (v['dfbin'] ?? '').split(' ');
  const epoch = Number(v['epoch']);
  return {
    swapDevices: Number(v['swap']) || 0,
    bridgeNetfilter: v['brnf'] === 'yes',
    overlayFs: v['overlay'] === 'yes',
    ipForward: (v['ipforward'] ?? '').trim(),
    cgroupFs: (v['cgroupfs'] ?? '').trim(),
    ntpSynchronized: (v['ntp'] ?? '').trim(),
    clockSkewSec: receivedAtMs !== undefined && v['epoch'] && Number.isFinite(epoch) ? Math.round(epoch - receivedAtMs / 1000) : undefined,
    binDirFreeKb: Number(free) || 0,
    binDir: dir.join(' '),
    port10250: (v['port10250'] ?? '').trim(),
    kubeletMainPid: Number(v['kubeletpid']) || 0,
    cloudInit: v['cloudinit'] === undefined ? undefined : v['cloudinit'].trim(),
  };
}

/** Parses gather's output. */
export function parseFacts(stdout: string, desired: RenderedHost, opts: GatherOptions = {}): HostFacts {
  const facts: HostFacts = { os: '', arch: '', systemd: '', freeDiskKb: 0, files: new Map(), missingDirs: new Set(), tempFiles: [], units: new Map(), presentManifestPaths: new Set() };
  const shas = new Map<string, string>();
  const stats = new Map<string, FileStat>();
  const pre: Record<string, string> = {};
  const manifestLines: string[] = [];
  const missing = new Set<string>();
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
        loadState: unit['LoadState'] ?? '',
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
      else if (key === 'hasher') facts.hasher = value;
      else if (key in preflightKeys) pre[key] = value;
      section = key;
      continue;
    }
    if (section === 'manifest') manifestLines.push(line);
    else if (section === 'present' && line) facts.presentManifestPaths!.add(line);
    else if (section === 'stat') {
      const s = parseStatLine(line);
      if (s) stats.set(s.path, s.stat);
    } else if (section === 'sha') {
      const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
      if (m) shas.set(m[2]!, m[1]!);
    } else if (section === 'dirs' && line) missing.add(line);
    else if (section === 'tmp' && line) facts.tempFiles.push(line);
    else if (section === 'units') {
      if (line === '') flushUnit();
      else {
        const i = line.indexOf('=');
        if (i > 0) unit[line.slice(0, i)] = line.slice(i + 1);
      }
    }
  }
  facts.preflight = preflightFacts(pre, opts.receivedAtMs);
  const manifestText = manifestLines.join('\n').trim();
  let manifest: HostManifest | undefined;
  if (manifestText) {
    try {
      manifest = parseManifest(manifestText);
    } catch (e) {
      if (!(e instanceof ManifestParseError)) throw e;
      facts.manifestProblem = e.message;
    }
  }
  if (manifest) facts.manifest = manifest;
  const recorded = new Map((facts.manifest?.files ?? []).map((f) => [f.path, f]));
  for (const p of managedPaths(desired)) {
    const stat = stats.get(p);
    if (!stat) continue;
    const hashed = shas.get(p);
    // not hashed: the host found its stat line in the manifest, so the recorded sha256 holds
    const entry = recorded.get(p);
    const trusted = hashed === undefined && !opts.checksum && sameStat(entry?.stat, stat) ? entry?.sha256 : undefined;
    facts.files.set(p, { sha256: hashed ?? trusted, mode: stat.mode, stat, hashed: hashed !== undefined } satisfies FileFact);
  }
  const wanted = new Set(managedDirsWithAncestors(desired));
  for (const d of missing) if (wanted.has(d)) facts.missingDirs.add(d);
  return facts;
}

export async function gatherFacts(x: Executor, desired: RenderedHost, opts: GatherOptions = {}): Promise<HostFacts> {
  const r = await x.exec(gatherScript(desired, opts));
  return parseFacts(r.stdout, desired, { ...opts, receivedAtMs: Date.now() });
}

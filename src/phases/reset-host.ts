// Reset: takes away what the on-host manifest says kubewright installed — its units stopped and
// disabled, then every file and binary it lists, then the manifest itself, then the directories
// kubewright created when they are empty — and leaves everything else alone. Without a manifest
// there is nothing kubewright knows it owns: nothing to do (so a second reset is a no-op).
import { etcdPaths } from '../render/etcd-member.ts';
import type { Executor } from '../exec/executor.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import { tempMarker } from '../exec/temp-name.ts';
import { dirname } from 'node:path/posix';
import { flannelEtcdPaths } from '../render/flannel-etcd-paths.ts';
import { seedPaths } from '../render/seed/paths.ts';
import { KubewrightError } from '../errors.ts';
import { MANIFEST_PATH, ManifestParseError, parseManifest, type HostManifest } from './host-manifest.ts';

export interface ResetStep {
  /** one line for people: `stop and disable kubelet.service (active, enabled)` */
  summary: string;
  run(x: Executor): Promise<void>;
}

export interface ResetPlan {
  host: string;
  /** the manifest found, undefined when the host has none (nothing to do) */
  manifest: HostManifest | undefined;
  steps: ResetStep[];
  /** an etcd member's data dir that this reset leaves in place (without `etcdData`) */
  keptEtcdData?: string | undefined;
}

/** etcd's data dir: not in the manifest (etcd writes it), removed by reset only when asked (--delete-etcd-data). */
const ETCD_DATA_DIR = etcdPaths.dataDir;

/**
 * Files kubewright's own units write while they run (so no apply recorded them), removed with
 * the unit that writes them; their directories go too when empty. Other state the components
 * create (containerd's images, the kubelet's pods) is not kubewright's and stays.
 */
export const unitOutputs: Readonly<Record<string, { files: string[]; dirs: string[] }>> = {
  'etcd-lookup.service': { files: [flannelEtcdPaths.etcdMembers], dirs: [dirname(flannelEtcdPaths.etcdMembers)] },
  'public_ip.service': { files: [seedPaths.publicIpEnv], dirs: [dirname(seedPaths.publicIpEnv)] },
};

/** The directory of the manifest: kubewright's own, removed with the manifest when empty. */
const MANIFEST_DIR = MANIFEST_PATH.slice(0, MANIFEST_PATH.lastIndexOf('/'));

/** Reads the manifest and what of it is still there; changes nothing. */
export async function planReset(x: Executor, opts: { etcdData?: boolean | undefined } = {}): Promise<ResetPlan> {
  const text = await x.read(MANIFEST_PATH);
  if (text === undefined) return { host: x.host, manifest: undefined, steps: [] };
  let m: HostManifest;
  try {
    m = parseManifest(text.toString('utf8'));
  } catch (e) {
    if (!(e instanceof ManifestParseError)) throw e;
    throw new KubewrightError(`${MANIFEST_PATH} is unreadable (${e.message}): reset does not know what kubewright installed`, {
      host: x.host,
      hint: `run \`kubewright apply\` once to record it again, then reset; or remove ${MANIFEST_PATH} by hand to leave the host as it is`,
    });
  }
  const units = [...new Set(m.units)].sort();
  const outputs = units.flatMap((u) => unitOutputs[u]?.files ?? []);
  const outputDirs = units.flatMap((u) => unitOutputs[u]?.dirs ?? []);
  const q = shellQuote;
  const script = [
    'export LC_ALL=C',
    units.length > 0 ? `systemctl show -p Id,LoadState,ActiveState,UnitFileState -- ${units.map(shellQuote).join(' ')} 2>/dev/null; echo` : 'true',
    'echo @present',
    `for p in ${[...m.files.map((f) => f.path), ...outputs, ...m.dirs, ...outputDirs, ...(units.includes('etcd.service') ? [ETCD_DATA_DIR] : [])].map(q).join(' ') || "''"}; do if [ -e "$p" ] || [ -L "$p" ]; then printf '%s\\n' "$p"; fi; done`,
  ].join('\n');
  const out = (await x.exec(script)).stdout;
  const [showPart = '', presentPart = ''] = out.split('\n@present\n');
  const unitState = new Map<string, Record<string, string>>();
  for (const block of showPart.trim().split('\n\n')) {
    const kv = Object.fromEntries(block.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (kv['Id']) unitState.set(kv['Id'], kv);
  }
  const present = new Set(presentPart.split('\n').filter((l) => l !== ''));
  const steps: ResetStep[] = [];
  const live = units.filter((u) => {
    const s = unitState.get(u);
    return s && s['LoadState'] !== 'not-found' && !(s['ActiveState'] !== 'active' && s['ActiveState'] !== 'activating' && (s['UnitFileState'] ?? '') === '');
  });
  for (const u of live) {
    const s = unitState.get(u)!;
    steps.push({
      summary: `stop and disable ${u} (${s['ActiveState'] || 'unknown'}, ${s['UnitFileState'] || 'unknown'})`,
      run: async (h) => {
        await h.exec(`systemctl disable --now -- ${shellQuote(u)}; systemctl reset-failed -- ${shellQuote(u)} 2>/dev/null; true`);
      },
    });
  }
  const files = m.files.filter((f) => present.has(f.path));
  for (const f of files) {
    steps.push({
      summary: `remove ${f.path} (${f.kind})`,
      run: async (h) => {
        await h.exec(`rm -f -- ${shellQuote(f.path)}`);
      },
    });
  }
  for (const p of outputs.filter((o) => present.has(o))) {
    steps.push({
      summary: `remove ${p} (written by a kubewright unit)`,
      run: async (h) => {
        await h.exec(`rm -f -- ${shellQuote(p)}`);
      },
    });
  }
  // etcd's data (this member's copy of the cluster's keys): kept unless asked, after etcd has stopped
  const etcdData = present.has(ETCD_DATA_DIR);
  if (etcdData && opts.etcdData) {
    steps.push({
      summary: `remove ${ETCD_DATA_DIR} (etcd's data, --delete-etcd-data)`,
      run: async (h) => {
        await h.exec(`rm -rf -- ${shellQuote(ETCD_DATA_DIR)}`);
      },
    });
  }
  if (units.length > 0 && (live.length > 0 || files.length > 0)) {
    steps.push({
      summary: 'systemctl daemon-reload (unit files removed)',
      run: async (h) => {
        await h.exec('systemctl daemon-reload');
      },
    });
  }
  steps.push({
    summary: `remove ${MANIFEST_PATH}`,
    run: async (h) => {
      // an interrupted manifest write leaves a temp file beside it
      await h.exec(`rm -f -- ${shellQuote(MANIFEST_PATH)} ${shellQuote(MANIFEST_DIR)}/.manifest.json${tempMarker}* 2>/dev/null; true`);
    },
  });
  // deepest first, so that a parent is empty by the time its turn comes; one holding anything
  // else is not kubewright's to remove
  const dirs = [...new Set([...[...m.dirs, ...outputDirs].filter((d) => present.has(d)), MANIFEST_DIR])].sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
  steps.push({
    summary: `remove the directories kubewright created, when empty: ${dirs.join(', ')}`,
    run: async (h) => {
      await h.exec(dirs.map((d) => `rmdir -- ${shellQuote(d)} 2>/dev/null`).join('; ') + '; true');
    },
  });
  return { host: x.host, manifest: m, steps, ...(etcdData && !opts.etcdData ? { keptEtcdData: ETCD_DATA_DIR } : {}) };
}

/** Runs the steps in order; stops at the first that fails. */
export async function applyReset(x: Executor, plan: ResetPlan, onStep?: (s: ResetStep) => void): Promise<number> {
  let n = 0;
  for (const s of plan.steps) {
    onStep?.(s);
    await s.run(x);
    n++;
  }
  return n;
}

// Preflight: whether a host can run what kubewright renders for it, judged from the facts the one
// gather command returned (no extra round trip). `doctor` shows every check; plan and apply run the
// same checks, and a blocking one fails the host before anything is written. Pure.
import { InputError, KubewrightError } from '../errors.ts';
import type { RenderedHost } from '../render/types.ts';
import { cgroupSupport, nodeSwapGa, type Minor } from '../spec/matrix.ts';
import { hostArch, UnsupportedArchError } from './host-arch.ts';
import type { HostFacts } from './host-facts.ts';
import { preflightCheckIds, type PreflightCheckId } from '../spec/preflight-check-ids.ts';

export { preflightCheckIds, type PreflightCheckId } from '../spec/preflight-check-ids.ts';

export type PreflightSeverity = 'ok' | 'warning' | 'blocking';

export interface PreflightFinding {
  check: PreflightCheckId;
  severity: PreflightSeverity;
  /** what was found, e.g. `1 swap device active` */
  message: string;
  /** what to do about it (warnings and blocking findings) */
  fix?: string | undefined;
}

/** Checks whose blocking findings are shown as warnings instead (--ignore-preflight-errors). */
export type IgnoredPreflightErrors = ReadonlySet<PreflightCheckId> | 'all';

/** What the cluster asks of every host, from the spec (run/prepare-run.ts builds it). */
export interface PreflightRequirements {
  kubernetes: Minor;
  profile: 'seed' | 'modern';
  /** accepted knowingly: a blocking finding of these checks becomes a warning that says so */
  ignoreErrors?: IgnoredPreflightErrors | undefined;
}

export const IGNORE_PREFLIGHT_ERRORS_FLAG = '--ignore-preflight-errors';

/**
 * kubeadm's --ignore-preflight-errors shape: a comma-separated list of check names (any case), or
 * `all` alone. An unknown name is refused (kubeadm accepts any): a typo would block as before.
 */
export function parseIgnorePreflightErrors(value: string | undefined): IgnoredPreflightErrors | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const flag = IGNORE_PREFLIGHT_ERRORS_FLAG;
  if (names.length === 0) throw new InputError(`${flag}: empty`, { hint: `name the checks, e.g. ${flag}=cgroup,swap, or ${flag}=all` });
  if (names.includes('all')) {
    if (names.length > 1) throw new InputError(`${flag}: 'all' ignores every check, so it stands alone (got ${value})`, { hint: `pass ${flag}=all, or only the checks' names` });
    return 'all';
  }
  const known = new Set<string>(preflightCheckIds);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new InputError(`${flag}: no preflight check named ${unknown.join(', ')}`, { hint: `the checks are ${preflightCheckIds.join(', ')} (or all)` });
  return new Set(names as PreflightCheckId[]);
}

export interface PreflightInput {
  facts: HostFacts;
  desired: RenderedHost;
  requirements: PreflightRequirements;
  /** paths of the binaries apply will install (not on the host yet, or changed) */
  binariesToInstall: readonly string[];
  /** their sizes in bytes once downloaded (apply); undefined: estimated (plan, doctor) */
  binaryBytes?: ((path: string) => number | undefined) | undefined;
}

/** A guess per binary for plan and doctor, which download nothing: about kubelet's size (1.36, amd64). */
export const ESTIMATED_BINARY_BYTES = 80 * 1024 * 1024;
/** Room left over after the binaries (and their temp copies) are in place. */
export const DISK_HEADROOM_BYTES = 256 * 1024 * 1024;

const testedOs = new Set(['debian', 'ubuntu']);

const renderedFileContaining = (desired: RenderedHost, dir: string, pattern: RegExp): string | undefined =>
  desired.files.find((f) => f.path.startsWith(dir) && pattern.test(f.contents))?.path;

export function preflightChecks(input: PreflightInput): PreflightFinding[] {
  const ignore = input.requirements.ignoreErrors;
  return checks(input).map((f) =>
    f.severity === 'blocking' && ignore !== undefined && (ignore === 'all' || ignore.has(f.check))
      ? { ...f, severity: 'warning', message: `${f.message} (ignored: ${IGNORE_PREFLIGHT_ERRORS_FLAG} or preflight.ignoreErrors)` }
      : f,
  );
}

function checks(input: PreflightInput): PreflightFinding[] {
  const { facts, desired, requirements } = input;
  const out: PreflightFinding[] = [];
  const add = (check: PreflightCheckId, severity: PreflightSeverity, message: string, fix?: string): void => {
    out.push({ check, severity, message, ...(fix === undefined ? {} : { fix }) });
  };
  const pre = facts.preflight;

  try {
    add('arch', 'ok', `${facts.arch.trim()} (${hostArch('', facts.arch)} binaries)`);
  } catch (e) {
    if (!(e instanceof UnsupportedArchError)) throw e;
    add('arch', 'blocking', e.message, e.hint);
  }

  const [osId = ''] = facts.os.split(' ');
  if (testedOs.has(osId)) add('os', 'ok', facts.os);
  else add('os', 'warning', facts.os ? `${facts.os} is not one kubewright is tested on (Debian, Ubuntu)` : 'no /etc/os-release', 'expect to debug distro differences yourself, or use Debian 12 / Ubuntu 24.04');

  const systemdVersion = /^systemd (\d+)/.exec(facts.systemd)?.[1];
  if (systemdVersion) add('systemd', 'ok', `systemd ${systemdVersion}`);
  else add('systemd', 'blocking', 'no systemd (systemctl --version printed nothing)', 'kubewright runs every component as a systemd unit: use a host booted with systemd');

  if (!pre) return out;

  // disk: the binaries land in their directory first as temp files, then renamed
  const exact = input.binaryBytes !== undefined;
  const needBytes = input.binariesToInstall.reduce((sum, p) => sum + (input.binaryBytes?.(p) ?? ESTIMATED_BINARY_BYTES), 0) + DISK_HEADROOM_BYTES;
  const freeBytes = pre.binDirFreeKb * 1024;
  const mib = (b: number): string => `${Math.ceil(b / 1024 / 1024)} MiB`;
  const what = `${input.binariesToInstall.length} binaries to install (${exact ? '' : 'estimated '}${mib(needBytes - DISK_HEADROOM_BYTES)}) + ${mib(DISK_HEADROOM_BYTES)} headroom`;
  if (freeBytes >= needBytes) add('disk', 'ok', `${mib(freeBytes)} free in ${pre.binDir}; ${what}`);
  // an estimate never blocks: only apply, with the downloads measured, refuses
  else add('disk', exact ? 'blocking' : 'warning', `${mib(freeBytes)} free in ${pre.binDir}, ${what} need ${mib(needBytes)}`, `free space on the filesystem of ${pre.binDir} (or grow it)`);

  if (pre.swapDevices === 0) add('swap', 'ok', 'no swap');
  else {
    const ga = nodeSwapGa(requirements.kubernetes) ? ' (Kubernetes 1.34+ can use swap with failSwapOn: false and LimitedSwap, which kubewright does not render)' : '';
    add('swap', 'blocking', `${pre.swapDevices} swap device(s) active: the kubelet refuses to start with swap on${ga}`, 'run `swapoff -a` and remove the swap entries from /etc/fstab');
  }

  // kernel modules: apply loads them through systemd-modules-load when the render lists them
  const missing = [pre.bridgeNetfilter ? undefined : 'br_netfilter', pre.overlayFs ? undefined : 'overlay'].filter((m): m is string => m !== undefined);
  if (missing.length === 0) add('kernel-modules', 'ok', 'br_netfilter and overlay loaded');
  else {
    const loader = renderedFileContaining(desired, '/etc/modules-load.d/', new RegExp(`^(${missing.join('|')})$`, 'm'));
    add(
      'kernel-modules',
      'warning',
      `${missing.join(', ')} not loaded${loader ? ` (apply loads ${missing.length > 1 ? 'them' : 'it'} through ${loader})` : ''}`,
      `make sure the kernel has ${missing.length > 1 ? 'them' : 'it'}: \`modprobe ${missing.join(' ')}\`; without br_netfilter kube-proxy's rules miss bridged pod traffic, without overlay the runtime falls back to a slow snapshotter`,
    );
  }

  if (pre.ipForward === '1') add('ip-forward', 'ok', 'net.ipv4.ip_forward = 1');
  else {
    const setter = renderedFileContaining(desired, '/etc/sysctl.d/', /^net\.ipv4\.ip_forward\s*=\s*1$/m)
      // docker turns forwarding on itself unless told not to (dockerd --ip-forward, default true)
      ?? renderedFileContaining(desired, '/etc/systemd/system/', /ExecStart=\S*dockerd(?![^\n]*--ip-forward=false)/);
    if (setter) add('ip-forward', 'warning', `net.ipv4.ip_forward is ${pre.ipForward || 'unreadable'} (apply turns it on through ${setter})`, 'nothing to do unless something on the host turns it off again');
    else add('ip-forward', 'blocking', `net.ipv4.ip_forward is ${pre.ipForward || 'unreadable'}: pods cannot reach other nodes`, 'set net.ipv4.ip_forward = 1 in /etc/sysctl.d/ and run `sysctl --system`');
  }

  if (pre.port10250 === '') add('port-10250', 'ok', 'port 10250 free');
  else {
    const pid = Number(/pid=(\d+)/.exec(pre.port10250)?.[1] ?? 0);
    const proc = /users:\(\("([^"]+)"/.exec(pre.port10250)?.[1] ?? 'a process';
    if (pid !== 0 && pid === pre.kubeletMainPid) add('port-10250', 'ok', 'port 10250 held by kubelet.service (ours)');
    else add('port-10250', 'blocking', `port 10250 (the kubelet API) is held by ${proc}${pid ? ` (pid ${pid})` : ''}`, `stop what listens there (\`ss -tlnp 'sport = :10250'\`) or use another host`);
  }

  const skew = pre.clockSkewSec;
  if (skew !== undefined && Math.abs(skew) > 300) {
    // certificates are backdated 5 minutes: a clock further behind sees a fresh certificate as not yet valid
    add('time-sync', 'warning', `clock is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} this machine's`, 'synchronise it (systemd-timesyncd or chrony); TLS fails when a clock is more than 5 minutes off');
  } else if (pre.ntpSynchronized === 'yes') add('time-sync', 'ok', 'NTP synchronised');
  else add('time-sync', 'warning', pre.ntpSynchronized === 'no' ? 'clock not NTP-synchronised' : 'cannot tell whether the clock is synchronised (no timedatectl)', 'enable time sync: `timedatectl set-ntp true` (systemd-timesyncd) or chrony');

  const cgroups = cgroupSupport(requirements.kubernetes);
  const version = `${requirements.kubernetes.major}.${requirements.kubernetes.minor}`;
  const v2 = pre.cgroupFs === 'cgroup2fs';
  if (v2 && cgroups.v2 === 'unsupported') add('cgroup', 'warning', `cgroup v2, which Kubernetes ${version} does not support (GA in 1.25)`, 'boot with systemd.unified_cgroup_hierarchy=0, or use Kubernetes 1.25+');
  else if (v2) add('cgroup', 'ok', 'cgroup v2');
  else if (cgroups.v1 === 'ok') add('cgroup', 'ok', `cgroup v1 (${pre.cgroupFs || 'unknown'})`);
  else if (cgroups.v1 === 'maintenance') {
    add('cgroup', 'warning', `cgroup v1 (${pre.cgroupFs || 'unknown'}): Kubernetes ${version} keeps v1 in maintenance mode only`, 'boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1; the default of Debian 11+ and Ubuntu 21.10+)');
  } else {
    // the kubelet kubewright renders keeps failCgroupV1's default, so it would exit at start;
    // kubeadm's preflight (system-validators) fails it likewise since 1.35
    add(
      'cgroup',
      'blocking',
      `cgroup v1 (${pre.cgroupFs || 'unknown'}): the kubelet ${version} refuses to start on it (failCgroupV1 defaults to true since 1.35)`,
      `boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1; the default of Debian 11+ and Ubuntu 21.10+); where the kubelet runs with failCgroupV1: false (an operator's drop-in) or is no real kubelet, accept it with ${IGNORE_PREFLIGHT_ERRORS_FLAG}=cgroup`,
    );
  }

  if (pre.cloudInit !== undefined) {
    if (pre.cloudInit === 'done') add('cloud-init', 'ok', 'cloud-init done');
    else if (pre.cloudInit === '') add('cloud-init', 'warning', 'cloud-init still running after the wait', 'see `cloud-init status --long` on the host; re-run once it is done');
    else add('cloud-init', 'warning', `cloud-init finished with status ${pre.cloudInit}`, 'see `cloud-init status --long` and /var/log/cloud-init.log on the host');
  }
  return out;
}

/** A host that fails a blocking check: nothing was written to it. */
export class PreflightError extends KubewrightError {
  readonly findings: PreflightFinding[];
  constructor(host: string, findings: PreflightFinding[]) {
    const blocking = findings.filter((f) => f.severity === 'blocking');
    super(`preflight failed: ${blocking.map((f) => `${f.check}: ${f.message}${f.fix ? ` — fix: ${f.fix}` : ''}`).join('; ')}`, {
      host,
      hint: `nothing was written to this host; \`kubewright doctor -f <spec> --host <name>\` shows every check; ${IGNORE_PREFLIGHT_ERRORS_FLAG}=<check> accepts one knowingly`,
    });
    this.findings = findings;
  }
}

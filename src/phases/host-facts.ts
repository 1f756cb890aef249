// What the gather phase observed on a host, in one round trip.
import type { FileStat, HostManifest } from './host-manifest.ts';

export interface FileFact {
  /** undefined when the file's stat changed but it could not be hashed, or the manifest was unreadable */
  sha256: string | undefined;
  /** permission bits, e.g. 0o644 */
  mode: number;
  /** inode, size, mtime, ctime and mode as gather saw them (absent in facts built without a host) */
  stat?: FileStat | undefined;
  /** true when gather hashed the file (its stat differed from the manifest's, or --checksum) */
  hashed?: boolean;
}

export interface UnitFact {
  /** active, inactive, failed, activating, ... */
  activeState: string;
  /** systemd's id of the unit's current run; a restart changes it */
  invocationId: string;
  activeEnterTimestamp: string;
  /** enabled, disabled, static, ... ('' when systemd does not know the unit) */
  unitFileState: string;
  /** 'no' when a Condition*= check made systemd skip the unit (e.g. no CAP_SYS_MODULE in a container) */
  conditionResult: string;
  /** loaded, not-found, masked, ... */
  loadState?: string | undefined;
}

/** What the preflight checks read (preflight.ts); absent in facts built without a host. */
export interface PreflightFacts {
  /** active swap devices (lines of /proc/swaps after its header) */
  swapDevices: number;
  /** br_netfilter is loaded (or built in): /proc/sys/net/bridge exists */
  bridgeNetfilter: boolean;
  /** the kernel knows overlayfs (/proc/filesystems) */
  overlayFs: boolean;
  /** /proc/sys/net/ipv4/ip_forward: '1', '0', or '' when unreadable */
  ipForward: string;
  /** filesystem type of /sys/fs/cgroup: cgroup2fs (v2), tmpfs (v1 or hybrid) */
  cgroupFs: string;
  /** `timedatectl show -p NTPSynchronized --value`: yes, no, or '' when it cannot tell */
  ntpSynchronized: string;
  /** the host clock minus this machine's when gather ran, in seconds (undefined when unknown) */
  clockSkewSec?: number | undefined;
  /** free KiB where the binaries go (the nearest existing ancestor of their directory) */
  binDirFreeKb: number;
  /** the directory that was measured */
  binDir: string;
  /** the first `ss -tlnp` line of a listener on 10250, '' when none */
  port10250: string;
  /** MainPID of kubelet.service (0 when it does not run) */
  kubeletMainPid: number;
  /** `cloud-init status --wait`'s final status where cloud-init ran this boot (done, error, degraded...), undefined otherwise */
  cloudInit?: string | undefined;
}

export interface HostFacts {
  /** `ID VERSION_ID` from /etc/os-release, e.g. `debian 12` */
  os: string;
  /** `uname -m`, e.g. x86_64 */
  arch: string;
  /** first line of `systemctl --version`, '' without systemd */
  systemd: string;
  /** free KiB on the root filesystem */
  freeDiskKb: number;
  /** managed paths that exist, by path */
  files: Map<string, FileFact>;
  /** managed directories that do not exist yet */
  missingDirs: Set<string>;
  /** leftover temp files of an interrupted atomic write */
  tempFiles: string[];
  units: Map<string, UnitFact>;
  /** the manifest kubewright recorded on the host, undefined when there is none (or it is unreadable) */
  manifest?: HostManifest | undefined;
  /** why the manifest could not be read, when it exists but is not valid */
  manifestProblem?: string | undefined;
  /** paths the manifest lists that exist on the host (the candidates for pruning) */
  presentManifestPaths?: Set<string> | undefined;
  /** which hasher gather would use: openssl (SHA-NI where the CPU has it) or sha256sum */
  hasher?: string | undefined;
  preflight?: PreflightFacts | undefined;
}

// What the gather phase observed on a host, in one round trip.

export interface FileFact {
  sha256: string;
  /** permission bits, e.g. 0o644 */
  mode: number;
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
  /** managed paths that exist, by path (without the test root prefix) */
  files: Map<string, FileFact>;
  /** managed directories that do not exist yet */
  missingDirs: Set<string>;
  /** leftover temp files of an interrupted atomic write */
  tempFiles: string[];
  units: Map<string, UnitFact>;
}

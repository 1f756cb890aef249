// systemd unit files in the post's layout: sections in order, ExecStart with one flag per
// continuation line, a blank line between sections. No timestamps, no randomness.

export const SYSTEMD_DIR = '/etc/systemd/system';

export type UnitEntry = readonly [key: string, value: string];

export interface UnitSection {
  name: 'Unit' | 'Service' | 'Install';
  entries: UnitEntry[];
}

/** `binary \` + one `    arg \` line per argument, as the post writes ExecStart. */
export function execCommand(binary: string, args: readonly string[]): string {
  return [binary, ...args].join(' \\\n    ');
}

export function renderUnitFile(sections: readonly UnitSection[]): string {
  return `${sections
    .map((s) => [`[${s.name}]`, ...s.entries.map(([k, v]) => `${k}=${v}`)].join('\n'))
    .join('\n\n')}\n`;
}

export interface ServiceUnit {
  /** the [Unit] section: Description, ordering, dependencies */
  unit: UnitEntry[];
  /** the [Service] entries before the restart policy */
  service: UnitEntry[];
  /**
   * The post's `Restart=always` + `RestartSec=15` by default; `none` for oneshot units (systemd
   * before 244 refuses any Restart= on Type=oneshot; Ubuntu 16.04, the post's image, has 229).
   */
  restart?: { policy: 'always' | 'on-failure'; sec: number } | 'none';
  /** [Service] entries after the restart policy (containerd's limits) */
  afterRestart?: UnitEntry[];
}

/** A service started at boot: [Unit], [Service] with its restart policy, `WantedBy=multi-user.target`. */
export function renderServiceUnit(u: ServiceUnit): string {
  const restart = u.restart ?? { policy: 'always', sec: 15 };
  const policy: UnitEntry[] = restart === 'none' ? [] : [['Restart', restart.policy], ['RestartSec', String(restart.sec)]];
  return renderUnitFile([
    { name: 'Unit', entries: u.unit },
    { name: 'Service', entries: [...u.service, ...policy, ...(u.afterRestart ?? [])] },
    { name: 'Install', entries: [['WantedBy', 'multi-user.target']] },
  ]);
}

/** systemd names as the renderers may write them (`kubelet` or `kubelet.service`) made explicit. */
export function unitName(name: string): string {
  return /\.(service|socket|timer|mount|target|path)$/.test(name) ? name : `${name}.service`;
}

/** True for files systemd reads as unit definitions (a change needs `systemctl daemon-reload`). */
export function isUnitFile(path: string): boolean {
  // unit files directly in a unit directory, or drop-ins (`kubelet.service.d/10-x.conf`)
  return /^\/(etc|lib|usr\/lib|run)\/systemd\/system\/([^/]+\.(service|socket|timer|mount|target|path)|[^/]+\.d\/[^/]+\.conf)$/.test(path);
}

/** The unit a drop-in belongs to (`/etc/systemd/system/kubelet.service.d/10-x.conf` → kubelet.service). */
export function dropInUnit(path: string): string | undefined {
  return /^\/(?:etc|lib|usr\/lib|run)\/systemd\/system\/([^/]+\.(?:service|socket|timer|mount|target|path))\.d\/[^/]+\.conf$/.exec(path)?.[1];
}

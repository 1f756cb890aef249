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

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

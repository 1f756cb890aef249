// What the lab needs on this machine: root, systemd-nspawn, debootstrap, ip, ssh-keygen.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabPrerequisiteError } from './lab-errors.ts';

const tools: { bin: string; pkg: string }[] = [
  { bin: 'systemd-nspawn', pkg: 'systemd-container' },
  { bin: 'debootstrap', pkg: 'debootstrap' },
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'ssh-keygen', pkg: 'openssh-client' },
];

// sbin dirs are searched too: a non-root PATH often lacks them, and the message should be about root then
const defaultPath = (): string => [process.env['PATH'] ?? '', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].join(delimiter);

export function findExecutable(bin: string, path = defaultPath()): string | undefined {
  for (const d of path.split(delimiter)) {
    if (!d) continue;
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws LabPrerequisiteError naming everything missing at once, with the install line. */
export function checkLabPrerequisites(opts: { uid?: number; path?: string } = {}): void {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const problems: string[] = [];
  if (uid !== 0) problems.push('must run as root (creates a bridge and systemd-nspawn containers)');
  const missing = tools.filter((t) => !findExecutable(t.bin, opts.path));
  if (missing.length > 0) problems.push(`missing ${missing.map((t) => t.bin).join(', ')}`);
  if (problems.length === 0) return;
  const hints: string[] = [];
  if (missing.length > 0) hints.push(`install with: apt-get install -y ${[...new Set(missing.map((t) => t.pkg))].join(' ')}`);
  if (uid !== 0) hints.push('run kubewright as root (sudo) for provider: lab');
  throw new LabPrerequisiteError(`lab provider: ${problems.join('; ')}`, { hint: hints.join('; ') });
}

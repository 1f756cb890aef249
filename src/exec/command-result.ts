// What running a command on a host gives back. As in zx/execa, a failed command's error *is*
// its result: CommandError carries command, stdout, stderr and exit code.
import { KubewrightError } from '../errors.ts';

export interface CommandResult {
  command: string;
  stdout: string;
  stderr: string;
  /** exit code; -1 when the command was killed by a signal or the connection dropped */
  code: number;
}

/** A command exited non-zero (or could not be run). Exit 1, names the host. */
export class CommandError extends KubewrightError implements CommandResult {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;

  constructor(host: string, result: CommandResult, hint?: string) {
    const firstLine = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-1)[0] ?? '';
    const shown = result.command.length > 80 ? `${result.command.slice(0, 77)}...` : result.command;
    super(`command failed with exit code ${result.code}: ${shown}${firstLine ? ` (${firstLine})` : ''}`, {
      host,
      hint: hint ?? 'run the command on the host by hand to see the whole output',
    });
    this.command = result.command;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.code = result.code;
  }
}

// What running a command on a host gives back. As in zx/execa, a failed command's error *is*
// its result: CommandError carries command, stdout, stderr and exit code.
import { spawn } from 'node:child_process';
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

export interface RunLocalOptions {
  /** host name for a CommandError (default: localhost) */
  host?: string;
  /** resolve with the result instead of rejecting with CommandError when the exit code is non-zero */
  allowFailure?: boolean;
  stdin?: string | Uint8Array;
  /** milliseconds before the command is killed (code -1, stderr says so) */
  timeoutMs?: number;
  /** the environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** how the command is named in the result (default: the arguments joined by spaces) */
  command?: string;
}

/**
 * Runs a program on this machine (no shell unless argv asks for one). Every local command goes
 * through here: LocalExecutor (`sh -c`) and the lab provider (ip, ssh-keygen, debootstrap).
 */
export function runLocal(argv: readonly [string, ...string[]], opts: RunLocalOptions = {}): Promise<CommandResult> {
  const command = opts.command ?? argv.join(' ');
  const host = opts.host ?? 'localhost';
  return new Promise((resolve, reject) => {
    const settle = (result: CommandResult): void => {
      if (result.code !== 0 && !opts.allowFailure) reject(new CommandError(host, result));
      else resolve(result);
    };
    const child = spawn(argv[0], argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // the program could not be started (not installed): 127, as a shell reports it
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      settle({ command, stdout: '', stderr: e.message, code: 127 });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      settle({
        command,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut ? `timed out after ${opts.timeoutMs} ms` : Buffer.concat(err).toString('utf8'),
        code: code ?? -1,
      });
    });
    // a command that exits without reading its input must not crash us with EPIPE
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  });
}

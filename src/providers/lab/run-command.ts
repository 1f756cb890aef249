// Runs a local command (no shell) and returns its result; the lab provider's only way to touch the host.
import { spawn } from 'node:child_process';

export interface CommandResult {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const command = [cmd, ...args].join(' ');
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 0 });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ command, code: 127, stdout, stderr: stderr + e.message }));
    child.on('close', (code, signal) => resolve({ command, code: code ?? (signal ? 128 : 1), stdout, stderr }));
    if (child.stdin) {
      // a command that exits without reading its input must not crash us with EPIPE
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

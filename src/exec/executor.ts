// How kubewright acts on a host: run a command, write a file atomically, upload a binary.
// Implemented over SSH (ssh-executor.ts) and locally (local-executor.ts).
import type { CommandResult } from './command-result.ts';

export interface ExecOptions {
  /** resolve with the result instead of rejecting with CommandError when the exit code is non-zero */
  allowFailure?: boolean;
  /** bytes for the command's stdin */
  stdin?: string | Uint8Array;
  /** milliseconds before the command is abandoned (CommandError with code -1) */
  timeoutMs?: number;
}

/** A file for `put`: contents as text or bytes, written with this mode, owned by root. */
export interface PutFile {
  path: string;
  mode: number;
  contents: string | Uint8Array;
}

export interface Executor {
  /** the host name, for messages */
  readonly host: string;
  /** a host key accepted for this connection but not recorded in known_hosts (plan --accept-new-host-keys) */
  readonly unrecordedHostKey?: { keyType: string; fingerprint: string } | undefined;
  exec(cmd: string, opts?: ExecOptions): Promise<CommandResult>;
  /**
   * Writes the file so that readers see the old or the new contents, never a part: a temp file
   * in the same directory, fsync, chmod (and chown root when using sudo), rename. Creates the
   * parent directory (0755) when it is missing.
   */
  put(file: PutFile): Promise<void>;
  /** The same atomic write for a local file (binaries), streamed. */
  upload(localPath: string, remotePath: string, mode: number): Promise<void>;
  /** A file's contents, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

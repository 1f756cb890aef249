// Why an SSH session could not be used. Both are host failures (exit 1) that name the host.
import { KubewrightError } from '../errors.ts';

/** The host's key is unknown, changed or revoked in known_hosts: nothing is sent to it. */
export class HostKeyError extends KubewrightError {
  readonly reason: 'unknown' | 'changed' | 'revoked';
  constructor(host: string, message: string, reason: 'unknown' | 'changed' | 'revoked', hint: string) {
    super(message, { host, hint });
    this.reason = reason;
  }
}

/** TCP connect, authentication, a timeout or a dropped connection. */
export class SshConnectionError extends KubewrightError {
  constructor(host: string, message: string, hint: string, cause?: unknown) {
    super(message, { host, hint, cause });
  }
}

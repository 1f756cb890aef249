// Errors from talking to the DigitalOcean API. Messages never contain the token: the client
// redacts it from anything an upstream body might echo.
import { ExitCode, KubewrightError } from '../../errors.ts';

/** A DigitalOcean API answer that was not a success: `{id, message, request_id}` plus where it came from. */
export class DigitalOceanApiError extends KubewrightError {
  readonly status: number;
  readonly id: string | undefined;
  readonly requestId: string | undefined;
  /** the request field the API rejected (422), dotted, e.g. `size` */
  readonly field: string | undefined;

  constructor(
    message: string,
    opts: { status: number; id?: string | undefined; requestId?: string | undefined; field?: string | undefined; hint?: string; exitCode?: ExitCode; cause?: unknown },
  ) {
    super(message, { exitCode: opts.exitCode ?? ExitCode.failure, hint: opts.hint, cause: opts.cause });
    this.status = opts.status;
    this.id = opts.id;
    this.requestId = opts.requestId;
    this.field = opts.field;
  }
}

/** Retries ran out (count or total time) on 429, 5xx, timeouts or connection resets. */
export class DigitalOceanRetriesExhaustedError extends KubewrightError {
  readonly attempts: number;
  constructor(message: string, opts: { attempts: number; hint?: string; cause?: unknown }) {
    super(message, { hint: opts.hint, cause: opts.cause });
    this.attempts = opts.attempts;
  }
}

/**
 * A non-idempotent request (a create) whose outcome is unknown: the connection broke, it timed
 * out or the server answered 5xx. The caller must look at the current state before trying again.
 */
export class DigitalOceanUncertainError extends KubewrightError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause, hint: 'list the droplets by tag before creating again' });
  }
}

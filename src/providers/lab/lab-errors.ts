// Errors of the lab provider: missing prerequisites are bad input (exit 2), a failed host step is exit 1.
import { InputError, KubewrightError } from '../../errors.ts';

/** The machine can't run lab hosts: not root, or a package is missing. */
export class LabPrerequisiteError extends InputError {}

/** A lab step failed on this machine (bridge, container boot, ssh readiness). */
export class LabError extends KubewrightError {
  constructor(message: string, opts: { host?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts);
  }
}

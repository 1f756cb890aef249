// The error types of kubewright and the exit codes they map to (DESIGN.md):
// 0 ok, 1 failure on a host or API, 2 bad input (spec, flags, files), 3 verification failed.

export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  verifyFailed: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: every kubewright error carries its exit code and, when one is involved, the host. */
export class KubewrightError extends Error {
  readonly exitCode: ExitCode;
  readonly host: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, opts: { exitCode?: ExitCode; host?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.failure;
    this.host = opts.host;
    this.hint = opts.hint;
  }

  /** One line for the user: `host: message — hint`. */
  /** The message with its host and hint; `shownHost` is left out when a line already names it. */
  describe(shownHost?: string): string {
    const where = this.host && this.host !== shownHost ? `${this.host}: ` : '';
    const hint = this.hint ? ` — ${this.hint}` : '';
    return `${where}${this.message}${hint}`;
  }
}

/** Bad input from the user: a spec field, a flag, a file. Exit 2. */
export class InputError extends KubewrightError {
  constructor(message: string, opts: { hint?: string; cause?: unknown; host?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.badInput });
  }
}

export interface SpecIssue {
  /** dotted path from the document root, e.g. `kubernetes.clusterDNS` */
  path: string;
  message: string;
  /** the offending value, already rendered for display */
  got?: string;
  hint?: string;
}

/** One or more problems in a cluster spec. Exit 2; lists every issue with its field path. */
export class SpecError extends InputError {
  readonly file: string;
  readonly issues: SpecIssue[];

  constructor(file: string, issues: SpecIssue[]) {
    super(`${file}: ${issues.length === 1 ? 'invalid cluster spec' : `${issues.length} problems in cluster spec`}`);
    this.file = file;
    this.issues = issues;
  }

  override describe(_shownHost?: string): string {
    const lines = this.issues.map((i) => {
      const got = i.got === undefined ? '' : ` (got ${i.got})`;
      const hint = i.hint ? ` — ${i.hint}` : '';
      return `  ${i.path || '(document)'}: ${i.message}${got}${hint}`;
    });
    return [this.message, ...lines].join('\n');
  }
}

/** A check of a running cluster failed. Exit 3. */
export class VerifyError extends KubewrightError {
  constructor(message: string, opts: { host?: string; hint?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.verifyFailed });
  }
}

export function isKubewrightError(e: unknown): e is KubewrightError {
  return e instanceof KubewrightError;
}

// The kubewright command line: commander wiring and the one place that maps errors to exit codes.
// Start-up stays fast because only the invoked command's module is imported (each command in
// turn imports its heavy libraries inside its action): `--version` loads commander and nothing else.
import { CommanderError, type Command } from 'commander';
import { ExitCode, isKubewrightError } from '../errors.ts';
import { setTraceSink } from '../trace.ts';
import { ExitStatus } from './exit-status.ts';
import { releaseHeldLocks } from './held-locks.ts';
import { processIo, type Io } from './io.ts';
import { buildProgram, commandModules, finish, newProgram } from './program.ts';

export { buildProgram } from './program.ts';

/** The first operand of argv (the command name), skipping the program's own flags. */
function commandName(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let args = argv.slice(2);
  const name = commandName(args);
  const target = name === 'help' ? commandName(args.slice(args.indexOf('help') + 1)) : name;
  let program: Command;
  try {
    const load = target === undefined ? undefined : commandModules[target];
    const versionOnly = name === undefined && args.some((a) => a === '--version' || a === '-V') && !args.some((a) => a === '--help' || a === '-h');
    if (load || versionOnly) {
      program = newProgram(io);
      if (load) (await load())(program, io);
      finish(program);
    } else {
      program = await buildProgram(io);
      // `kubewright doctor --help` must not print the main help and exit 0: drop the help flag so
      // commander reports the unknown command (with its did-you-mean suggestion) and we exit 2
      if (name !== undefined && name !== 'help') args = args.filter((a) => a !== '--help' && a !== '-h');
    }
  } catch (e) {
    io.err(`error: cannot load the command ${target ?? ''}: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.failure;
  }
  // -v (anywhere on the line) or KUBEWRIGHT_DEBUG: trace lines to stderr, and stacks of unexpected errors
  const debug = (): boolean => program.opts()['verbose'] === true || !!process.env['KUBEWRIGHT_DEBUG'];
  program.hook('preAction', () => {
    if (debug()) setTraceSink((line) => io.err(`· ${line}`));
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof ExitStatus) return e.code;
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors (unknown command or option, missing argument) are bad input
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    if (isKubewrightError(e)) {
      io.err(`error: ${e.describe()}`);
      return e.exitCode;
    }
    io.err(`error: unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
    if (debug() && e instanceof Error && e.stack) io.err(e.stack);
    return ExitCode.failure;
  } finally {
    setTraceSink(undefined);
    // the cluster lock a command took (cluster-lock-option.ts) ends with it
    await releaseHeldLocks();
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) process.exitCode = await main(process.argv);

// The kubewright command line: commander wiring and the one place that maps errors to exit codes.
// Start-up stays fast because only the invoked command's module is imported (each command in
// turn imports its heavy libraries inside its action): `--version` loads commander and nothing else.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, isKubewrightError } from '../errors.ts';
import { ExitStatus } from './exit-status.ts';
import { processIo, type Io } from './io.ts';

type Register = (program: Command, io: Io) => void;

/** Every top-level command and the module that defines it, in the order `--help` lists them. */
export const commandModules: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.ts')).registerInit,
  render: async () => (await import('./commands/render.ts')).registerRender,
  up: async () => (await import('./commands/up.ts')).registerUp,
  plan: async () => (await import('./commands/plan.ts')).registerPlan,
  apply: async () => (await import('./commands/apply.ts')).registerApply,
  provision: async () => (await import('./commands/provision.ts')).registerProvision,
  down: async () => (await import('./commands/down.ts')).registerDown,
  terraform: async () => (await import('./commands/terraform.ts')).registerTerraform,
  pki: async () => (await import('./commands/pki.ts')).registerPki,
  lab: async () => (await import('./commands/lab.ts')).registerLab,
  verify: async () => (await import('./commands/verify.ts')).registerVerify,
  kubeconfig: async () => (await import('./commands/kubeconfig.ts')).registerKubeconfig,
  etcd: async () => (await import('./commands/etcd.ts')).registerEtcd,
  artifacts: async () => (await import('./commands/artifacts.ts')).registerArtifacts,
};

/** kubewright's version, read from package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function newProgram(io: Io): Command {
  return new Command('kubewright')
    .description('bring up Kubernetes worker nodes from scratch: hosts, PKI, flannel on etcd, runtime, kubelet, kube-proxy, DNS')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure on a host or API, 2 bad input (spec, flags, files), 3 verification failed.

Start here:
  kubewright init                                   # write a commented cluster.yaml
  kubewright render -f cluster.yaml --out rendered  # see every file each worker gets
`,
    );
}

function finish(program: Command): Command {
  const configure = (c: Command): void => {
    c.exitOverride().showHelpAfterError('(run with --help for usage)');
    for (const sub of c.commands) configure(sub);
  };
  for (const c of program.commands) configure(c);
  return program;
}

/** The program with every command registered (for help, completion and tests that walk all commands). */
export async function buildProgram(io: Io): Promise<Command> {
  const program = newProgram(io);
  for (const load of Object.values(commandModules)) (await load())(program, io);
  return finish(program);
}

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
    if (process.env['KUBEWRIGHT_DEBUG'] && e instanceof Error && e.stack) io.err(e.stack);
    return ExitCode.failure;
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) process.exitCode = await main(process.argv);

// The kubewright command line: commander wiring and the one place that maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { ExitCode, isKubewrightError } from '../errors.ts';
import { registerApply } from './commands/apply.ts';
import { registerInit } from './commands/init.ts';
import { registerPlan } from './commands/plan.ts';
import { registerPki } from './commands/pki.ts';
import { registerKubeconfig } from './commands/kubeconfig.ts';
import { registerLab } from './commands/lab.ts';
import { registerRender } from './commands/render.ts';
import { registerUp } from './commands/up.ts';
import { registerVerify } from './commands/verify.ts';
import { registerProvision } from './commands/provision.ts';
import { registerDown } from './commands/down.ts';
import { registerTerraform } from './commands/terraform.ts';
import { registerEtcd } from './commands/etcd.ts';
import { registerArtifacts } from './commands/artifacts.ts';
import { processIo, type Io } from './io.ts';

export function buildProgram(io: Io): Command {
  const program = new Command('kubewright')
    .description('bring up Kubernetes worker nodes from scratch: hosts, PKI, flannel on etcd, runtime, kubelet, kube-proxy, DNS')
    .version('0.1.0')
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
  registerInit(program, io);
  registerRender(program, io);
  registerUp(program, io);
  registerPlan(program, io);
  registerApply(program, io);
  registerProvision(program, io);
  registerDown(program, io);
  registerTerraform(program, io);
  registerPki(program, io);
  registerLab(program, io);
  registerVerify(program, io);
  registerKubeconfig(program, io);
  registerEtcd(program, io);
  registerArtifacts(program, io);
  for (const c of program.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors (unknown option, missing argument) are bad input
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

// The command tree: every command's module (imported only when needed) and the root program.
import { Command } from 'commander';
import type { Io } from './io.ts';
import { packageVersion } from './package-version.ts';

type Register = (program: Command, io: Io) => void;

/** Every top-level command and the module that defines it, in the order `--help` lists them. */
export const commandModules: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.ts')).registerInit,
  render: async () => (await import('./commands/render.ts')).registerRender,
  up: async () => (await import('./commands/up.ts')).registerUp,
  plan: async () => (await import('./commands/plan.ts')).registerPlan,
  apply: async () => (await import('./commands/apply.ts')).registerApply,
  doctor: async () => (await import('./commands/doctor.ts')).registerDoctor,
  provision: async () => (await import('./commands/provision.ts')).registerProvision,
  down: async () => (await import('./commands/down.ts')).registerDown,
  reset: async () => (await import('./commands/reset.ts')).registerReset,
  terraform: async () => (await import('./commands/terraform.ts')).registerTerraform,
  pki: async () => (await import('./commands/pki.ts')).registerPki,
  lab: async () => (await import('./commands/lab.ts')).registerLab,
  verify: async () => (await import('./commands/verify.ts')).registerVerify,
  kubeconfig: async () => (await import('./commands/kubeconfig.ts')).registerKubeconfig,
  etcd: async () => (await import('./commands/etcd.ts')).registerEtcd,
  artifacts: async () => (await import('./commands/artifacts.ts')).registerArtifacts,
  validate: async () => (await import('./commands/validate.ts')).registerValidate,
  schema: async () => (await import('./commands/schema.ts')).registerSchema,
  version: async () => (await import('./commands/version.ts')).registerVersion,
  completion: async () => (await import('./commands/completion.ts')).registerCompletion,
};

export function newProgram(io: Io): Command {
  return new Command('kubewright')
    .description('bring up Kubernetes worker nodes from scratch: hosts, PKI, flannel on etcd, runtime, kubelet, kube-proxy, DNS')
    .version(packageVersion())
    .option('-v, --verbose', 'show every SSH command (host, duration), DigitalOcean call (method, path, status, ms) and etcd operation on stderr; KUBEWRIGHT_DEBUG=1 does the same')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure on a host or API, 2 bad input (spec, flags, files), 3 verification failed.
Conventions: -f FILE is the cluster spec on every command (-f - reads it from standard input),
-o text|json the output format, time flags take durations (--wait 2m, --timeout 30s).

Start here:
  kubewright init                                   # write a commented cluster.yaml
  kubewright render -f cluster.yaml --out rendered  # see every file each worker gets
`,
    );
}

export function finish(program: Command): Command {
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


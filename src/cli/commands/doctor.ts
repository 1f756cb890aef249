// `kubewright doctor -f cluster.yaml [--host NAME…]`: the preflight checks plan and apply run, alone.
import type { Command } from 'commander';
import { InputError, KubewrightError } from '../../errors.ts';
import { parseIgnorePreflightErrors, preflightCheckIds } from '../../phases/preflight.ts';
import { ignorePreflightErrorsOption } from '../preflight-option.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { doctorHosts, doctorLines } from '../../run/doctor.ts';
import { describeError } from '../../run/plan-report.ts';
import { preflightRequirements, prepareRun } from '../../run/prepare-run.ts';
import type { Io } from '../io.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import { parseParallel } from './plan.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerDoctor(program: Command, io: Io): void {
  program
    .command('doctor')
    .description('check that each host can run what kubewright renders for it, before anything is written (plan and apply run the same checks)')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--host <name>', 'check only this host (repeatable; default: every host of the cluster)', collect, [] as string[])
    .option('--parallel <n>', 'hosts checked at once', '10')
    .option('--accept-new-host-keys', 'trust host keys not yet in ssh.knownHostsPath for this run (nothing is recorded)', false)
    .addOption(ignorePreflightErrorsOption())
    .addOption(outputOption('text, or json: every check of every host'))
    .addHelpText(
      'after',
      `
Checks, per host, from the one command apply's gather step runs anyway (no extra round trip):
  ${preflightCheckIds.join(', ')}
BLOCKING fails the host in plan and apply before anything is written: an architecture other than
amd64/arm64, no systemd, swap on, port 10250 held by something other than our kubelet, cgroup v1
with Kubernetes 1.35+ (the kubelet refuses it), and (apply, with the downloads measured) too
little disk for the binaries. Warnings are listed: an untested OS, kernel modules or ip_forward
that apply itself turns on, an unsynchronised clock, cgroup v1 before 1.35, cloud-init that
failed. --ignore-preflight-errors=cgroup,swap (or all; kubeadm's flag) turns those checks'
blocking findings into warnings, as does the spec's preflight: { ignoreErrors: [...] }. Where cloud-init runs (new droplets),
gather first waits for it to finish (cloud-init status --wait, up to 5 minutes).
Every finding names the host, the check and the fix. Exit 1 when a host is blocked or unreachable.

Examples:
  kubewright doctor -f cluster.yaml
  kubewright doctor -f cluster.yaml --host w2 -o json
`,
    )
    .action(async (opts: { file: string; host: string[]; parallel: string; acceptNewHostKeys: boolean; output: OutputFormat; ignorePreflightErrors?: string }) => {
      const parallel = parseParallel(opts.parallel);
      const ignorePreflightErrors = parseIgnorePreflightErrors(opts.ignorePreflightErrors);
      const cluster = await loadClusterFile(opts.file);
      const all = await providerFor(cluster).recorded();
      const unknown = opts.host.filter((n) => !all.some((h) => h.name === n));
      if (unknown.length > 0) {
        throw new InputError(`--host: no host named ${unknown.join(', ')} in ${cluster.sourceFile}`, { hint: `the hosts are: ${all.map((h) => h.name).join(', ') || '(none recorded)'}` });
      }
      const hosts = opts.host.length > 0 ? all.filter((h) => opts.host.includes(h.name)) : all;
      const run = await prepareRun(cluster, { mode: 'plan', hosts, acceptNewHostKeys: opts.acceptNewHostKeys });
      const outcomes = await doctorHosts(run.targets, preflightRequirements(cluster, ignorePreflightErrors), { parallel, connect: run.connect });
      if (opts.output === 'json') {
        io.out(JSON.stringify({ hosts: outcomes.map((o) => ({ host: o.host, findings: o.findings, ...(o.error === undefined ? {} : { error: describeError(o.error) }) })) }, null, 2));
      } else {
        for (const l of doctorLines(outcomes, describeError)) io.out(l);
      }
      const blocked = outcomes.filter((o) => o.error !== undefined || o.findings.some((f) => f.severity === 'blocking'));
      if (blocked.length > 0) {
        throw new KubewrightError(`doctor: ${blocked.length} of ${outcomes.length} host(s) cannot be applied: ${blocked.map((o) => o.host).join(', ')}`, { hint: 'fix what each BLOCKING line names, then run doctor again' });
      }
    });
}

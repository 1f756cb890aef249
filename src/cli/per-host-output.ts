// Output at scale (docs/scale.md): plan and apply show each host up to perHostLimit hosts, or
// with -v (--verbose) at any count; beyond, plan groups hosts with the same plan and apply prints
// counts and every failure.
import type { Command } from 'commander';
import { perHostLimit } from '../run/plan-report.ts';

export function showEachHost(command: Command, hosts: number): boolean {
  return hosts <= perHostLimit || command.optsWithGlobals()['verbose'] === true;
}

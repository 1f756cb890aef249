import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { LabProvider } from '../../providers/lab/lab-provider.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption } from '../output-option.ts';
import type { Io } from '../io.ts';

async function labProvider(file: string, io: Io): Promise<LabProvider> {
  const cluster = await loadClusterFile(file);
  if (cluster.provider.kind !== 'lab') {
    throw new InputError(`${file}: provider is ${cluster.provider.kind}, not lab`, { hint: 'set `provider: { lab: { hosts: 3 } }` to use local machines' });
  }
  return new LabProvider(cluster, { progress: (l) => io.err(l) });
}

export function registerLab(program: Command, io: Io): void {
  const lab = program
    .command('lab')
    .description('local systemd-nspawn machines for provider: lab (needs root, systemd-container, debootstrap)')
    .addHelpText(
      'after',
      `
The machines boot from a Debian bookworm image built once with debootstrap and cached in
~/.cache/kubewright/rootfs-bookworm (KUBEWRIGHT_LAB_ROOTFS overrides), on a bridge with the
spec's subnet (host .1, machines .11, .12, ...; no gateway, no NAT). Their writes live in
memory while they run: \`lab down\` (or a reboot) discards them.

Example:
  kubewright lab up -f lab.yaml && ssh -o UserKnownHostsFile=known_hosts root@10.213.0.11
  kubewright lab down -f lab.yaml
`,
    );
  lab
    .command('up')
    .description('start the lab machines (idempotent: running machines are left alone) and print them')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(outputOption())
    .addHelpText('after', `
Example:
  kubewright lab up -f lab.yaml --output json
`)
    .action(async (opts: { file: string; output: string }) => {
      const { hosts } = await (await labProvider(opts.file, io)).ensure();
      if (opts.output === 'json') {
        io.out(JSON.stringify(hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user })), null, 2));
        return;
      }
      for (const h of hosts) io.out(`${h.name}\t${h.address ?? '-'}\t${h.user}@${h.address ?? '-'}:${h.port}`);
    });
  lab
    .command('down')
    .description('stop the lab machines and remove their bridge, addresses, cgroups, state and pinned host keys')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--yes', 'accepted like `down --yes` so scripts can pass it to both; lab down never asks')
    .addHelpText('after', `
Example:
  kubewright lab down -f lab.yaml
`)
    .action(async (opts: { file: string }) => {
      const p = await labProvider(opts.file, io);
      await p.remove();
      io.out(`lab down: nothing of ${opts.file}'s lab is left running`);
    });
}

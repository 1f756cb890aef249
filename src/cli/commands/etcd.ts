import type { Command } from 'commander';
import { InputError, VerifyError } from '../../errors.ts';
import { resolveEtcdConnection, resolveEtcdMembers, resolveEtcdTls, type EtcdAccessOptions } from '../../etcd/etcd-connection.ts';
import { formatEtcdMembersLine } from '../../spec/etcd-endpoint.ts';
import { openEtcdStore } from '../../etcd/etcd-store.ts';
import { flannelLeaseMapper } from '../../etcd/flannel-leases.ts';
import { writeFlannelNetworkConfig } from '../../etcd/flannel-network-config.ts';
import { dropletPrivateIpLister } from '../../providers/digitalocean/etcd-endpoints.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import type { Io } from '../io.ts';

interface EtcdCliOptions {
  file: string;
  endpoints?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  tokenFile?: string;
  apiUrl?: string;
  output: OutputFormat;
}

function withConnectionOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--endpoints <urls>', 'comma-separated etcd client URLs to use instead of etcd.discovery')
    .option('--etcd-ca <file>', "CA of etcd's serving certificate (default: <pki.dir>/etcd-ca.pem if present, else ca.pem)")
    .option('--etcd-cert <file>', 'client certificate (default: <pki.dir>/etcd-client.pem)')
    .option('--etcd-key <file>', 'client key (default: <pki.dir>/etcd-client-key.pem)')
    .option('--token-file <path>', 'DigitalOcean token for etcd.discovery.digitaloceanTag (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .option('--api-url <url>', 'DigitalOcean API base URL (default: $DIGITALOCEAN_API_URL or https://api.digitalocean.com)')
    .addOption(outputOption());
}

function accessOptions(opts: EtcdCliOptions): EtcdAccessOptions {
  let endpoints: string[] | undefined;
  if (opts.endpoints !== undefined) {
    endpoints = opts.endpoints.split(',').map((e) => e.trim()).filter(Boolean);
    for (const e of endpoints) {
      if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new InputError(`--endpoints: ${JSON.stringify(e)} is not an etcd client URL`, { hint: 'e.g. --endpoints https://10.0.0.5:2379,https://10.0.0.6:2379' });
    }
  }
  return { endpoints, ca: opts.etcdCa, cert: opts.etcdCert, key: opts.etcdKey, listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: opts.tokenFile, apiUrl: opts.apiUrl }) };
}


export function registerEtcd(program: Command, io: Io): void {
  const etcd = program
    .command('etcd')
    .description("flannel's etcd: find the members, write the network config, list the subnet leases")
    .addHelpText('after', `
Examples:
  kubewright etcd members -f cluster.yaml
  kubewright etcd network -f cluster.yaml --dry-run
  kubewright etcd leases -f cluster.yaml --output json
`);

  withConnectionOptions(etcd.command('members'))
    .description('print ETCD_MEMBERS=… as etcd-lookup writes it: DigitalOcean tag ∪ static endpoints ∪ etcd member list')
    .option('--no-member-list', "don't ask etcd for its member list (needs no certificates)")
    .addHelpText('after', `
Example:
  DIGITALOCEAN_ACCESS_TOKEN=... kubewright etcd members -f cluster.yaml
`)
    .action(async (opts: EtcdCliOptions & { memberList: boolean }) => {
      const access = accessOptions(opts);
      const cluster = await loadClusterFile(opts.file);
      const tls = opts.memberList ? await resolveEtcdTls(cluster, access) : undefined;
      const members = await resolveEtcdMembers(cluster, { ...access, memberList: opts.memberList }, tls);
      if (opts.output === 'json') io.out(JSON.stringify(members, null, 2));
      else io.out(formatEtcdMembersLine(members.endpoints));
    });

  withConnectionOptions(etcd.command('network'))
    .description(`write flannel's network config to <etcd.prefix>/config (v2 API for flannel < 0.18, v3 otherwise); unchanged → no write`)
    .option('--force', 'write a changed config even while flannel holds subnet leases (breaks running pods until flanneld and pods restart)')
    .option('--dry-run', 'show what would be written; write nothing')
    .addHelpText('after', `
The value is {"Network": kubernetes.podCIDR, "SubnetLen": flannel.subnetLen, "Backend": {"Type": flannel.backend}}.
A changed value on a cluster where flanneld already holds leases is refused unless --force.

Example:
  kubewright etcd network -f cluster.yaml --dry-run
`)
    .action(async (opts: EtcdCliOptions & { force?: boolean; dryRun?: boolean }) => {
      const access = accessOptions(opts);
      const cluster = await loadClusterFile(opts.file);
      const conn = await resolveEtcdConnection(cluster, access);
      const store = openEtcdStore(cluster.etcd.api, conn);
      try {
        const r = await writeFlannelNetworkConfig(store, cluster, { force: opts.force ?? false, dryRun: opts.dryRun ?? false });
        if (opts.output === 'json') {
          io.out(JSON.stringify({ ...r, api: cluster.etcd.api }, null, 2));
          return;
        }
        const verb = { create: r.written ? 'created' : 'would create', update: r.written ? 'updated' : 'would update', unchanged: 'unchanged' }[r.action];
        const rev = r.revision === undefined ? '' : `, revision ${r.revision}`;
        io.out(`etcd ${cluster.etcd.api}: ${r.key} ${verb} (${r.value}${rev})`);
        for (const c of r.changes) io.out(`  ${c}`);
      } finally {
        store.close();
      }
    });

  withConnectionOptions(etcd.command('leases'))
    .description("list flannel's subnet leases under <etcd.prefix>/subnets/ and the node each belongs to (exit 3 if a node has none)")
    .addHelpText('after', `
Example:
  kubewright etcd leases -f cluster.yaml --output json
`)
    .action(async (opts: EtcdCliOptions) => {
      const access = accessOptions(opts);
      const cluster = await loadClusterFile(opts.file);
      const conn = await resolveEtcdConnection(cluster, access);
      const hosts = await providerFor(cluster).recorded();
      const m = await flannelLeaseMapper(cluster, conn)(hosts);
      if (opts.output === 'json') {
        io.out(JSON.stringify({
          assigned: m.assigned.map((a) => ({ node: a.host.name, subnet: a.lease.subnet, publicIp: a.lease.publicIp, matchedAddress: a.matchedAddress })),
          nodesWithoutLease: m.nodesWithoutLease.map((h) => h.name),
          unmatchedLeases: m.unmatchedLeases,
        }, null, 2));
      } else {
        for (const a of m.assigned) io.out(`${a.host.name}: ${a.lease.subnet} (PublicIP ${a.lease.publicIp ?? '?'})`);
        for (const h of m.nodesWithoutLease) io.out(`${h.name}: no lease`);
        for (const l of m.unmatchedLeases) io.out(`(no node): ${l.subnet} (PublicIP ${l.publicIp ?? 'unreadable'})`);
      }
      if (m.nodesWithoutLease.length > 0) {
        throw new VerifyError(`flannel: no subnet lease under ${cluster.etcd.prefix}/subnets for ${m.nodesWithoutLease.map((h) => h.name).join(', ')}`, {
          hint: 'is flanneld running there? check `systemctl status etcd-lookup flanneld` on the node',
        });
      }
    });
}

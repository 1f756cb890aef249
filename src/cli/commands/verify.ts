import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { InputError, VerifyError } from '../../errors.ts';
import { resolveEtcdConnection } from '../../etcd/etcd-connection.ts';
import { dropletPrivateIpLister } from '../../providers/digitalocean/etcd-endpoints.ts';
import { flannelLeaseMapper, type LeaseMapping } from '../../etcd/flannel-leases.ts';
import type { Host } from '../../spec/host.ts';
import { providerFor } from '../../providers/provider-for.ts';
import type { Cluster } from '../../spec/cluster.ts';
import { readAdminCredentials } from '../../verify/admin-credentials.ts';
import { adminKubeConfig } from '../../verify/kube-client.ts';
import { verifyCluster, verifyUntil, type VerifyReport } from '../../verify/verify-cluster.ts';
import { formatVerifyReport } from '../verify-report.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { durationFlag } from '../duration-option.ts';
import { outputOption } from '../output-option.ts';
import type { Io } from '../io.ts';
import { connectHost, sshOptionsFor } from '../../run/connect.ts';
import { controlPlaneVerifyInputs } from '../../run/control-plane-probe.ts';


export async function kubeConfigFor(cluster: Cluster, kubeconfigFile: string | undefined): Promise<KubeConfig> {
  if (kubeconfigFile) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(kubeconfigFile);
    } catch (e) {
      throw new InputError(`${kubeconfigFile}: not a usable kubeconfig (${e instanceof Error ? e.message : String(e)})`, { hint: 'write one with `kubewright kubeconfig -f cluster.yaml --out FILE`' });
    }
    return kc;
  }
  const creds = await readAdminCredentials(cluster);
  return adminKubeConfig(cluster.kubernetes.apiServer, creds.caPem, creds.admin);
}

/** What to do next: an unreachable API server is not cured by waiting; NotReady nodes often are. */
export function verifyHint(report: VerifyReport, cluster: Cluster, waitMs: number): string {
  if (report.api.unreachable) {
    return `the API server at ${report.api.server} is not reachable (${report.api.unreachable}): check kubernetes.apiServer in ${cluster.sourceFile} and that the control plane is running there — kubewright brings up workers only`;
  }
  const onlyNotReady = report.api.ok && report.problems.length > 0 && report.nodes.some((n) => n.problem) &&
    report.nodes.every((n) => !n.problem || n.status === 'NotReady' || n.status === 'Missing') && report.dns.ok && (report.flannel.ok || !report.flannel.checked);
  if (onlyNotReady && waitMs === 0) return 'nodes need a moment after `up`: try --wait 2m';
  return 'see the reasons above';
}

export function registerVerify(program: Command, io: Io): void {
  program
    .command('verify')
    .description('check the running cluster: API health, every worker Ready with the expected kubelet, DNS addon at clusterDNS, and with a control plane its etcd members, components and endpoint (exit 3 if not)')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--wait <duration>', 'keep checking until it passes or this much time is over (e.g. 90s, 5m)')
    .option('--kubeconfig <file>', 'talk to the API with this kubeconfig instead of the PKI\'s admin certificate')
    .option('--skip-flannel', "don't read flannel's subnet leases from etcd")
    .option('--token-file <path>', 'DigitalOcean token to find etcd by etcd.discovery.digitaloceanTag (default: $DIGITALOCEAN_ACCESS_TOKEN)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Talks to kubernetes.apiServer with the admin certificate (pki.dir/admin.pem, O system:masters).
Checks /readyz?verbose (componentstatuses too for the seed's Kubernetes 1.8), that every
worker is registered and Ready with the expected kubelet version, and that the DNS Deployment
is available and Service kube-system/kube-dns has clusterIP = kubernetes.clusterDNS.
When etcd.discovery is set, every worker must also hold a flannel subnet lease in etcd
(etcd's CA and pki.dir/etcd-client.pem, as \`kubewright etcd leases\`).
With a controlPlane section it also checks: every etcd member (the member list, then a
linearizable read through each member's own client URL, with pki.dir/etcd/kubewright-client.pem),
each master's kube-apiserver /readyz, kube-controller-manager and kube-scheduler /healthz (asked
on the master itself over SSH: they listen on 127.0.0.1), and with more than one master that
connections through kubernetes.apiServer reach more than one master (traced by TLS session
resumption: each API server's session tickets resume only on itself).

Example:
  kubewright verify -f cluster.yaml --wait 2m
`,
    )
    .action(async (opts: { file: string; wait?: string; kubeconfig?: string; output: string; skipFlannel?: boolean; tokenFile?: string }) => {
      const waitMs = opts.wait === undefined ? 0 : durationFlag('--wait', opts.wait, { allowZero: true, example: '90s, 5m or 1m30s' });
      const cluster = await loadClusterFile(opts.file);
      const kc = await kubeConfigFor(cluster, opts.kubeconfig);
      const hosts = await providerFor(cluster).recorded();
      const { endpoints, digitaloceanTag } = cluster.etcd.discovery;
      let flannelLeases: ((h: Host[]) => Promise<LeaseMapping>) | undefined;
      if (!opts.skipFlannel && (endpoints?.length || digitaloceanTag)) {
        const conn = await resolveEtcdConnection(cluster, { listDropletPrivateIps: dropletPrivateIpLister({ tokenFile: opts.tokenFile }) });
        flannelLeases = flannelLeaseMapper(cluster, conn);
      }
      // with a controlPlane: etcd's members, each master's components (over SSH), the endpoint's balancing
      const ssh = cluster.controlPlane ? await sshOptionsFor(cluster, false) : undefined;
      const controlPlane = ssh ? await controlPlaneVerifyInputs(cluster, hosts, (h) => connectHost(h, { ...ssh, recordNewHostKeys: false })) : undefined;
      const report = await verifyUntil(() => verifyCluster({ cluster, hosts, kubeConfig: kc, flannelLeases, controlPlane }), waitMs);
      if (opts.output === 'json') io.out(JSON.stringify(report, null, 2));
      else for (const l of formatVerifyReport(report)) io.out(l);
      if (!report.ok) {
        throw new VerifyError(`verify: ${report.problems.length} check${report.problems.length === 1 ? '' : 's'} failed: ${report.problems[0] ?? ''}${report.problems.length > 1 ? ' …' : ''}`, {
          hint: verifyHint(report, cluster, waitMs),
        });
      }
    });
}

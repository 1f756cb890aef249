import type { Command } from 'commander';
import { writeRenderedTree } from '../../local-disk/write-rendered-tree.ts';
import { existsSync } from 'node:fs';
import { caFiles, resolvePkiDir } from '../../pki/pki-files.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { renderCluster } from '../../render/cluster.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';
import { renderControlPlaneHosts } from '../../render/control-plane/control-plane-hosts.ts';
import { controlPlaneHosts, etcdMemberHosts } from '../../spec/host.ts';

export function registerRender(program: Command, io: Io): void {
  program
    .command('render')
    .description('render every file of every host into a folder per host (+ cluster/ for manifests); touches no host')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .requiredOption('--out <dir>', 'output directory (created; replaced only if kubewright rendered it)')
    .addHelpText(
      'after',
      `
The tree mirrors the target paths: <out>/<host>/etc/systemd/system/kubelet.service, ...
and <out>/cluster/ holds the DNS addon manifests and flannel's etcd network config.
With a controlPlane section the masters and etcd's own hosts get their trees too (a stacked
master holds its etcd member and its API servers), once their addresses are known (static
hosts, or after provisioning); etcd's bootstrap.env is the one a first \`up\` writes.
Rendering is pure: the same spec always gives byte-identical files.

Example:
  kubewright render -f examples/seed.yaml --out rendered
`,
    )
    .option('--no-credentials', 'do not place certificates from an existing PKI (render paths only)')
    .action(async (opts: { file: string; out: string; credentials?: boolean }) => {
      const cluster = await loadClusterFile(opts.file);
      const hosts = await providerFor(cluster).recorded();
      // certificates are placed only when a PKI exists already; render never creates keys
      // (the x509 library is loaded only when there is a CA to read: rendering the starter spec stays fast)
      const pki = opts.credentials === false || !existsSync(caFiles(resolvePkiDir(cluster)).cert)
        ? undefined
        : await (await import('../../pki/cluster-pki.ts')).readClusterCredentials(cluster, hosts);
      const credentials = pki?.credentials;
      const workers = renderCluster({ cluster, hosts, credentials });
      // the masters' and etcd hosts' trees beside the workers' (a stacked master: both parts in one tree)
      const etcd = pki && cluster.controlPlane ? await (await import('../../pki/etcd-member-pki.ts')).readEtcdMemberCredentials(cluster, etcdMemberHosts(cluster, hosts)) : undefined;
      const cp = renderControlPlaneHosts({ cluster, hosts, credentials: pki?.controlPlane, etcd });
      const rendered = { ...workers, hosts: new Map([...workers.hosts, ...cp.hosts]), cluster: [...workers.cluster, ...cp.cluster] };
      const n = await writeRenderedTree(opts.out, rendered);
      const certs = credentials ? 'with certificates from the PKI' : 'certificate paths only (no PKI yet: `kubewright pki init`)';
      io.out(`rendered ${n} files for ${rendered.hosts.size} hosts (${cluster.profile} profile, Kubernetes ${cluster.kubernetes.version.major}.${cluster.kubernetes.version.minor}; ${certs}) into ${opts.out}`);
      if (cluster.controlPlane) io.out(cp.skipped ? `control plane: not rendered: ${cp.skipped}` : `control plane: ${controlPlaneHosts(hosts).length} master(s) and ${etcdMemberHosts(cluster, hosts).length} etcd member(s) (${cluster.controlPlane.etcd.placement}), members as a first up starts them`);
    });
}

import type { Command } from 'commander';
import { writeRenderedTree } from '../../files/write-rendered-tree.ts';
import { plannedHosts } from '../../providers/host.ts';
import { renderCluster } from '../../render/cluster.ts';
import { loadClusterFile } from '../load-cluster.ts';
import type { Io } from '../io.ts';

export function registerRender(program: Command, io: Io): void {
  program
    .command('render')
    .description('render every file of every host into a folder per host (+ cluster/ for manifests); touches no host')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .requiredOption('-o, --out <dir>', 'output directory (created; replaced only if kubewright rendered it)')
    .addHelpText(
      'after',
      `
The tree mirrors the target paths: <out>/<host>/etc/systemd/system/kubelet.service, ...
and <out>/cluster/ holds the DNS addon manifests and flannel's etcd network config.
Rendering is pure: the same spec always gives byte-identical files.

Example:
  kubewright render -f examples/seed.yaml --out rendered
`,
    )
    .action(async (opts: { file: string; out: string }) => {
      const cluster = await loadClusterFile(opts.file);
      const hosts = plannedHosts(cluster);
      const rendered = renderCluster({ cluster, hosts });
      const n = await writeRenderedTree(opts.out, rendered);
      io.out(`rendered ${n} files for ${rendered.hosts.length} hosts (${cluster.profile} profile, Kubernetes ${cluster.kubernetes.version.major}.${cluster.kubernetes.version.minor}) into ${opts.out}`);
    });
}

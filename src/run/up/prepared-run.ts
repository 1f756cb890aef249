// The run's hosts made ready to be worked on (rendered, binaries resolved, artifact store, SSH),
// prepared once by the first step that reaches a host — the etcd cluster's with a controlPlane
// section, else apply — and shared by the steps after it.
import type { Cluster } from '../../spec/cluster.ts';
import { prepareRun, type PreparedRun } from '../prepare-run.ts';
import type { UpContext } from './up-phase.ts';

export async function preparedRun(ctx: UpContext): Promise<PreparedRun> {
  if (ctx.has('prepared')) return ctx.need('prepared');
  const { cluster, opts } = ctx;
  const pki = ctx.need('pki');
  const prepared = await prepareRun(cluster, {
    mode: 'apply', acceptNewHostKeys: opts.acceptNewHostKeys ?? false, hosts: ctx.need('hosts'), cacheDir: opts.cacheDir,
    settled: { credentials: pki.credentials, lookupToken: ctx.lookupToken }, waitForSshMs: opts.waitForSshMs ?? defaultWaitForSshMs(cluster),
    ignorePreflightErrors: opts.ignorePreflightErrors,
    newHosts: new Set(ctx.result.provision?.created ?? []),
    // the etcd members listing asks the API the provider asks (--api-url), not only the default
    digitalocean: { apiUrl: opts.provider?.apiUrl, env: opts.provider?.env },
  });
  ctx.put('prepared', prepared);
  ctx.result.kubernetesVersion = prepared.resolvedKubernetesVersion;
  return prepared;
}

/** Droplets turn `active` before cloud-init has started sshd; static and lab hosts answer at once. */
function defaultWaitForSshMs(cluster: Cluster): number {
  return cluster.provider.kind === 'digitalocean' || cluster.provider.kind === 'terraform' ? 5 * 60_000 : 0;
}

// The probe verify's control-plane check runs on each master: one command asks every health URL
// with curl on the host itself (the controller-manager and scheduler listen on 127.0.0.1 only).
// -k: these answers come over the host's loopback through the pinned SSH connection and carry no
// credentials; the components' own serving certificates are self-signed unless given one.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Executor } from '../exec/executor.ts';
import { resolveEtcdTls } from '../etcd/etcd-connection.ts';
import type { EtcdConnection } from '../etcd/etcd-store.ts';
import { InputError } from '../errors.ts';
import { barePaths, caFiles, resolvePkiDir } from '../pki/pki-files.ts';
import { etcdClientUrl } from '../render/etcd-member.ts';
import type { Cluster } from '../spec/cluster.ts';
import { etcdMemberHosts } from '../spec/host.ts';
import type { VerifyOptions } from '../verify/verify-cluster.ts';
import { shellQuote } from '../exec/shell-quote.ts';
import type { Host } from '../spec/host.ts';
import type { HealthAnswer, HostHealthProbe } from '../verify/control-plane-health.ts';

const MARK = 'KWSTATUS';

/** The one shell command: per URL one line, the answer's first bytes then `KWSTATUS <code>` (000: nothing answered). */
export function healthProbeCommand(urls: readonly string[]): string {
  return urls
    .map((u) => `out=$(curl -ksS --max-time 5 -w '\\n${MARK} %{http_code}' ${shellQuote(u)} 2>&1); printf '%s\\n' "$out" | tr '\\n' ' ' | tail -c 400; echo`)
    .join('; ');
}

export function parseHealthProbe(urls: readonly string[], stdout: string): HealthAnswer[] {
  const lines = stdout.split('\n');
  return urls.map((url, i) => {
    const line = (lines[i] ?? '').trim();
    const m = new RegExp(`^(.*?)\\s*${MARK} (\\d{3})$`).exec(line);
    if (!m) return { url, status: 0, body: '', error: line || 'no answer (is curl installed on the host?)' };
    const status = Number(m[2]);
    return status === 0 ? { url, status, body: '', error: m[1] ?? '' } : { url, status, body: m[1] ?? '' };
  });
}

/** A HostHealthProbe over the run's connections: one command per master. */
export function hostHealthProbe(connect: (h: Host) => Promise<Executor>): HostHealthProbe {
  return async (host, urls) => {
    const x = await connect(host);
    try {
      const r = await x.exec(healthProbeCommand(urls), { allowFailure: true, timeoutMs: 10_000 + urls.length * 6000 });
      return parseHealthProbe(urls, r.stdout);
    } finally {
      await x.close().catch(() => undefined);
    }
  };
}

/**
 * What verify needs for a spec with controlPlane: from this machine's PKI — etcd's members' client
 * URLs with kubewright's own etcd client certificate (pki/etcd/kubewright-client.pem, flannel's
 * etcd-client.pem when that is missing), the cluster CA, and the probe over `connect`.
 */
export async function controlPlaneVerifyInputs(cluster: Cluster, hosts: readonly Host[], connect: (h: Host) => Promise<Executor>): Promise<NonNullable<VerifyOptions['controlPlane']>> {
  const caFile = caFiles(resolvePkiDir(cluster)).cert;
  const caPem = await readFile(caFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${caFile}: cannot read the cluster CA (${e.code ?? String(e)})`, { hint: 'verify checks the masters against the PKI that `up` or `kubewright pki init` made: point pki.dir at it' });
  });
  return { etcd: await controlPlaneEtcdConnection(cluster, hosts), probe: hostHealthProbe(connect), caPem };
}

/**
 * The control plane's etcd as kubewright reaches it: the members' client URLs with kubewright's own
 * etcd client certificate (pki/etcd/kubewright-client.pem; flannel's etcd-client.pem when that is
 * missing). undefined when no member has an address.
 */
export async function controlPlaneEtcdConnection(cluster: Cluster, hosts: readonly Host[]): Promise<EtcdConnection | undefined> {
  const own = barePaths(resolvePkiDir(cluster), 'etcd/kubewright-client');
  const mine = existsSync(own.cert) && existsSync(own.key);
  const endpoints = etcdMemberHosts(cluster, hosts).filter((h) => h.address !== undefined).map(etcdClientUrl);
  if (endpoints.length === 0) return undefined;
  return { endpoints, tls: await resolveEtcdTls(cluster, mine ? { cert: own.cert, key: own.key } : {}) };
}

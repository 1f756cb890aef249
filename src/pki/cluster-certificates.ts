// The certificates a cluster needs, as cfssl CSR requests (pure: spec + hosts in, requests out).
// seed: the post's one shared kubelet certificate (CN kubelet, hosts *.<domain>) as
// `cfssljson -bare kubelet/kubelet` names it. modern: one kubelet certificate per node
// (CN system:node:<name>, O system:nodes) so NodeRestriction can confine each kubelet.
// Both: flannel's etcd client certificate and an admin client certificate for `verify`.
import { isIP } from 'node:net';
import type { Host } from '../spec/host.ts';
import type { Cluster } from '../spec/cluster.ts';
import { nodeName } from '../spec/node-name.ts';
import type { CsrName, CsrRequest } from './csr-request.ts';
import type { KeySpec } from './private-key.ts';

export type CertRole = 'kubelet' | 'kube-proxy' | 'etcd-client' | 'admin';

export interface DesiredCertificate {
  /** cfssljson -bare name under the PKI directory: files are `<name>.pem`, `<name>-key.pem`, `<name>.csr` */
  name: string;
  role: CertRole;
  /** the node a per-node certificate belongs to */
  host?: string | undefined;
  request: CsrRequest;
  /** which CA signs it: the cluster CA, or etcd's CA when the PKI directory holds one */
  signer: 'cluster' | 'etcd';
}

/** The key every cluster certificate gets: spec pki.algo/size (ECDSA P-256 by default, as the post). */
export function clusterKeySpec(cluster: Cluster): KeySpec {
  return { algo: cluster.pki.algo, size: cluster.pki.size ?? (cluster.pki.algo === 'rsa' ? 2048 : 256) };
}

/** spec `pki.names` as one cfssl names entry, with O replaced when the role needs a group. */
export function subjectNames(cluster: Cluster, organization?: string): CsrName[] {
  const n = cluster.pki.names;
  const entry: CsrName = { C: n.C, ST: n.ST, L: n.L, O: organization ?? n.O, OU: n.OU };
  return Object.values(entry).some((v) => v !== undefined && v !== '') ? [entry] : [];
}

/** A node's SANs: its name, its public address (or SSH address when that is an IP) and its private address. */
export function nodeHosts(host: Host): string[] {
  const publicIp = host.publicAddress ?? (host.address !== undefined && isIP(host.address) ? host.address : undefined);
  const all = [host.name, publicIp, host.privateAddress].filter((h): h is string => h !== undefined && h !== '');
  return [...new Set(all)];
}

export function desiredCertificates(cluster: Cluster, hosts: readonly Host[]): DesiredCertificate[] {
  const key = clusterKeySpec(cluster);
  const certs: DesiredCertificate[] = [];
  if (cluster.profile === 'seed') {
    // the post: hosts ["*.{public-domain}"]; without a DigitalOcean domain, the node names themselves
    const wildcard = cluster.provider.kind === 'digitalocean' ? [`*.${cluster.provider.domain}`] : hosts.map((h) => h.name);
    certs.push({ name: 'kubelet/kubelet', role: 'kubelet', request: { CN: 'kubelet', hosts: wildcard, key, names: subjectNames(cluster) }, signer: 'cluster' });
  } else {
    for (const h of hosts) {
      certs.push({
        name: `nodes/${h.name}/kubelet`,
        role: 'kubelet',
        host: h.name,
        // the Node authorizer matches the CN against the Node the kubelet registers as
        request: { CN: `system:node:${nodeName(cluster, h)}`, hosts: nodeHosts(h), key, names: subjectNames(cluster, 'system:nodes') },
        signer: 'cluster',
      });
    }
    certs.push({ name: 'kube-proxy', role: 'kube-proxy', request: { CN: 'system:kube-proxy', key, names: subjectNames(cluster, 'system:node-proxier') }, signer: 'cluster' });
  }
  certs.push({ name: 'etcd-client', role: 'etcd-client', request: { CN: 'flannel', key, names: subjectNames(cluster) }, signer: 'etcd' });
  certs.push({ name: 'admin', role: 'admin', request: { CN: 'admin', key, names: subjectNames(cluster, 'system:masters') }, signer: 'cluster' });
  return certs;
}

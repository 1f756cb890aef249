// One etcd member's files, unit and binaries: pure, from the member, its peers and its TLS.
//
// The unit is the same on every run: what only matters the first time etcd starts with an empty
// data dir (ETCD_INITIAL_CLUSTER, ETCD_INITIAL_CLUSTER_STATE, ETCD_INITIAL_CLUSTER_TOKEN) lives
// in bootstrap.env, which etcd reads from its environment and which restarts nothing when it
// changes — a member added later rewrites every member's bootstrap.env, and no running member
// may restart or re-bootstrap for that (etcd ignores these settings once it has data).
import type { Cluster } from '../spec/cluster.ts';
import type { Host } from '../spec/host.ts';
import type { TlsCredential } from '../spec/credentials.ts';
import { etcdBinariesFor, type Arch } from './release-binaries.ts';
import type { RenderedFile, RenderedHost } from './types.ts';
import { execCommand, renderServiceUnit, SYSTEMD_DIR } from './unit-file.ts';
import { parseKubeVersion } from '../spec/version.ts';

export const ETCD_PEER_PORT = 2380;
export const ETCD_CLIENT_PORT_MEMBER = 2379;

export const etcdPaths = {
  unit: `${SYSTEMD_DIR}/etcd.service`,
  bootstrapEnv: '/etc/etcd/bootstrap.env',
  ca: '/etc/etcd/ca.pem',
  peerCert: '/etc/etcd/peer.pem',
  peerKey: '/etc/etcd/peer-key.pem',
  serverCert: '/etc/etcd/server.pem',
  serverKey: '/etc/etcd/server-key.pem',
  dataDir: '/var/lib/etcd',
} as const;

/** One `name=peerURL` of ETCD_INITIAL_CLUSTER. */
export interface InitialClusterEntry {
  name: string;
  peerUrl: string;
}

export interface EtcdMemberInput {
  cluster: Cluster;
  member: Host;
  /**
   * the cluster this member joins when it starts with no data: every member at bootstrap, or
   * the members the member API listed plus this one when it was added to a running cluster
   */
  initialCluster: readonly InitialClusterEntry[];
  state: 'new' | 'existing';
  /** without it (`render` before the PKI exists) the unit names the TLS files' paths and none is rendered */
  tls?: { caPem: string; peer: TlsCredential; server: TlsCredential } | undefined;
  arch?: Arch | undefined;
}

/** The address a member serves peers and clients on: its private address (the hosts' network). */
export function etcdMemberAddress(h: Host): string {
  const a = h.privateAddress ?? h.address;
  if (a === undefined) throw new Error(`etcd member ${h.name}: no address yet (provision the hosts first)`);
  return a;
}

export const etcdPeerUrl = (h: Host): string => `https://${etcdMemberAddress(h)}:${ETCD_PEER_PORT}`;
export const etcdClientUrl = (h: Host): string => `https://${etcdMemberAddress(h)}:${ETCD_CLIENT_PORT_MEMBER}`;

/** `name=https://10.0.0.5:2380,...` in the given order (etcd compares it to the member list as a set). */
export function initialClusterValue(members: readonly InitialClusterEntry[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** The initial cluster of a bootstrap: every member host. */
export const bootstrapCluster = (members: readonly Host[]): InitialClusterEntry[] => members.map((m) => ({ name: m.name, peerUrl: etcdPeerUrl(m) }));

/** The initial-cluster token: one per cluster, so members of two clusters never join each other. */
export const initialClusterToken = (cluster: Pick<Cluster, 'name'>): string => `${cluster.name}-etcd`;

function etcdArgs(input: EtcdMemberInput): string[] {
  const { cluster, member } = input;
  const address = etcdMemberAddress(member);
  const args = [
    `--name=${member.name}`,
    `--data-dir=${etcdPaths.dataDir}`,
    `--listen-peer-urls=${etcdPeerUrl(member)}`,
    `--initial-advertise-peer-urls=${etcdPeerUrl(member)}`,
    `--listen-client-urls=${etcdClientUrl(member)},https://127.0.0.1:${ETCD_CLIENT_PORT_MEMBER}`,
    `--advertise-client-urls=https://${address}:${ETCD_CLIENT_PORT_MEMBER}`,
    `--cert-file=${etcdPaths.serverCert}`,
    `--key-file=${etcdPaths.serverKey}`,
    `--trusted-ca-file=${etcdPaths.ca}`,
    '--client-cert-auth=true',
    `--peer-cert-file=${etcdPaths.peerCert}`,
    `--peer-key-file=${etcdPaths.peerKey}`,
    `--peer-trusted-ca-file=${etcdPaths.ca}`,
    '--peer-client-cert-auth=true',
  ];
  // flannel < 0.18 talks etcd's v2 API, which etcd 3.4 and 3.5 serve only with --enable-v2 (3.6 removed it)
  const v = parseKubeVersion(cluster.versions.etcd.replace(/^v/, ''));
  if (cluster.etcd.api === 'v2' && v && v.major === 3 && v.minor >= 4) args.push('--enable-v2=true');
  return args;
}

export function renderEtcdUnit(input: EtcdMemberInput): string {
  return renderServiceUnit({
    unit: [['Description', 'etcd (kubewright)'], ['Documentation', 'https://etcd.io/docs/'], ['After', 'network-online.target'], ['Wants', 'network-online.target']],
    service: [['Type', 'notify'], ['EnvironmentFile', etcdPaths.bootstrapEnv], ['ExecStart', execCommand(`/usr/local/bin/etcd`, etcdArgs(input))]],
    restart: { policy: 'on-failure', sec: 5 },
    afterRestart: [['LimitNOFILE', '65536']],
  });
}

export function renderEtcdBootstrapEnv(input: Pick<EtcdMemberInput, 'cluster' | 'initialCluster' | 'state'>): string {
  return [
    '# read by etcd only when it starts with an empty data dir; changing it restarts nothing',
    `ETCD_INITIAL_CLUSTER=${initialClusterValue(input.initialCluster)}`,
    `ETCD_INITIAL_CLUSTER_STATE=${input.state}`,
    `ETCD_INITIAL_CLUSTER_TOKEN=${initialClusterToken(input.cluster)}`,
    '',
  ].join('\n');
}

export function renderEtcdMember(input: EtcdMemberInput): RenderedHost {
  const binaries = etcdBinariesFor(input.cluster, input.arch ?? 'amd64');
  const file = (path: string, contents: string, mode = 0o644, secret = false): RenderedFile => ({ path, mode, contents, ...(secret ? { secret } : {}) });
  const tls = input.tls;
  const tlsFiles = tls
    ? [
        file(etcdPaths.ca, tls.caPem),
        file(etcdPaths.peerCert, tls.peer.certPem),
        file(etcdPaths.peerKey, tls.peer.keyPem, 0o600, true),
        file(etcdPaths.serverCert, tls.server.certPem),
        file(etcdPaths.serverKey, tls.server.keyPem, 0o600, true),
      ]
    : [];
  const unit = file(etcdPaths.unit, renderEtcdUnit(input));
  return {
    name: input.member.name,
    files: [...tlsFiles, file(etcdPaths.bootstrapEnv, renderEtcdBootstrapEnv(input)), unit],
    // bootstrap.env is left out on purpose (see the top of this file)
    units: [{ name: 'etcd.service', dependsOn: [unit.path, ...tlsFiles.map((f) => f.path), ...binaries.filter((b) => b.name === 'etcd').map((b) => b.path)] }],
    binaries,
  };
}

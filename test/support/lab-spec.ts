// One cluster.yaml for lab-machine tests and benches (provider: lab): the machines, their subnet
// and bridge, the etcd and API server addresses on the bridge's gateway, the key and known_hosts
// in the spec's folder, and the local artifact mirror with its pinned checksums. Its sibling
// staticSpecYaml is the same for loopback sshd hosts (provider: static, test/support/sshd-hosts.ts).
import { join } from 'node:path';
import { renderCluster } from '../../src/render/cluster.ts';
import type { Cluster } from '../../src/spec/cluster.ts';
import type { Host } from '../../src/spec/host.ts';
import { buildArtifactMirror } from './artifact-mirror.ts';
import type { SshdHosts } from './sshd-hosts.ts';

export interface LabSpec {
  /** metadata.name */
  name: string;
  hosts: number;
  /** the lab bridge's /24, e.g. from freeSubnet */
  subnet: string;
  bridge: string;
  /** kubernetes.version (a minor like "1.36" or a patch release) */
  version?: string;
  /** the API server's port on the gateway (default 6443) */
  apiPort?: number;
  /** kubernetes.clusterDNS; left to the profile's default when unset */
  clusterDNS?: string;
  /** pki.dir; unset: the spec's default */
  pkiDir?: string;
  /** artifact URL → sha256, as `buildArtifactMirror` returns them */
  pins?: Record<string, string>;
}

/** The bridge's gateway address (x.y.z.1), where the tests serve etcd and the API server. */
export function labGateway(subnet: string): string {
  return subnet.replace('.0/24', '.1');
}

/**
 * The test hosts (lab machines, loopback sshd hosts) see this machine's cgroup version, v1 here,
 * and run stand-in binaries, no real kubelet: the cgroup check, which blocks v1 from 1.35 (the real
 * kubelet refuses it), is accepted knowingly. test/phases/preflight.test.ts tests the check itself.
 */
export const TEST_PREFLIGHT = 'preflight: { ignoreErrors: [cgroup] }';

function pinLines(pins: Record<string, string> | undefined): string {
  return Object.entries(pins ?? {}).map(([u, sum]) => `    "${u}": ${sum}`).join('\n') || '    {}';
}

export function labSpecYaml(s: LabSpec): string {
  const gateway = labGateway(s.subnet);
  const dns = s.clusterDNS === undefined ? '' : `, clusterDNS: ${s.clusterDNS}`;
  const pins = pinLines(s.pins);
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ${s.name} }
kubernetes: { version: "${s.version ?? '1.36'}", apiServer: "https://${gateway}:${s.apiPort ?? 6443}"${dns} }
provider:
  lab: { hosts: ${s.hosts}, subnet: ${s.subnet}, bridge: ${s.bridge} }
etcd: { discovery: { endpoints: ["https://${gateway}:2379"] } }
${s.pkiDir === undefined ? '' : `pki: { dir: ${s.pkiDir} }\n`}ssh: { privateKeyPath: ./id_ed25519, knownHostsPath: ./known_hosts }
artifacts:
  mirror: ./mirror
  checksums:
${pins}
${TEST_PREFLIGHT}
`;
}

export interface StaticSpec {
  /** metadata.name */
  name: string;
  /** the loopback sshd hosts (or the ssh harness's, test/support/ssh-harness.ts): each is a static host on 127.0.0.1 at its port; pki.dir is lab.dir/pki */
  lab: Pick<SshdHosts, 'dir' | 'privateKeyPath' | 'knownHostsPath'> & { hosts: readonly { name: string; port: number }[] };
  /** artifacts.mirror: a directory or an http(s) URL */
  mirror: string;
  /** artifact URL → sha256, as `buildArtifactMirror` returns them */
  pins?: Record<string, string>;
  /** kubernetes.clusterDNS; left to the profile's default when unset */
  clusterDNS?: string;
  /** more static hosts on 127.0.0.1 with no sshd behind their port (one that refuses, one that never answers SSH) */
  deadHosts?: { name: string; port: number }[];
}

/** cluster.yaml for loopback sshd hosts (provider: static), etcd and the API server on 127.0.0.1 */
export function staticSpecYaml(s: StaticSpec): string {
  const dns = s.clusterDNS === undefined ? '' : `, clusterDNS: ${s.clusterDNS}`;
  const hostLines = [...s.lab.hosts, ...(s.deadHosts ?? [])].map((h) => `      - { name: ${h.name}, address: 127.0.0.1, port: ${h.port}, privateAddress: 10.0.0.${h.port % 200} }`).join('\n');
  return `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: ${s.name} }
kubernetes: { version: "1.36", apiServer: "https://127.0.0.1:6443"${dns} }
provider:
  static:
    hosts:
${hostLines}
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
pki: { dir: ${join(s.lab.dir, 'pki')} }
ssh: { user: root, privateKeyPath: ${s.lab.privateKeyPath}, knownHostsPath: ${s.lab.knownHostsPath} }
artifacts:
  mirror: ${s.mirror}
  checksums:
${pinLines(s.pins)}
${TEST_PREFLIGHT}
`;
}

/**
 * Serves the binaries Kubernetes 1.36.2 needs on the booted lab `hosts` (the stand-ins of
 * artifact-mirror.ts, TEST DOUBLES) from `dir/mirror`, the spec's `artifacts.mirror`; returns
 * their pins for `labSpecYaml`.
 */
export async function serveLabBinaries(dir: string, cluster: Cluster, hosts: Host[]): Promise<Record<string, string>> {
  const rendered = renderCluster({ cluster, hosts, kubernetesVersion: '1.36.2' });
  const mirror = await buildArtifactMirror(join(dir, 'mirror'), rendered.hosts.values().next().value!.binaries, { stable: { minor: '1.36', version: 'v1.36.2' } });
  return mirror.pins;
}

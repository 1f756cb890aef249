// What rendering produces: the desired state of every host, as plain data (no I/O).
import type { Cluster } from '../spec/cluster.ts';
import type { ClusterCredentials } from '../spec/credentials.ts';
import type { Host } from '../spec/host.ts';

export interface RenderedFile {
  /** absolute path on the target host, e.g. /etc/systemd/system/kubelet.service */
  path: string;
  mode: number;
  contents: string;
  /** private keys, tokens: never shown in a plan diff or a log */
  secret?: boolean;
}

/** A systemd unit the host runs, in start order, and the files/binaries whose change restarts it. */
export interface RenderedUnit {
  name: string;
  /** paths of files and binaries that, when changed, require a restart of this unit */
  dependsOn: string[];
}

/** A binary to download (upstream URL + checksum source) and install at `path`. */
export interface BinarySpec {
  name: string;
  /** upstream URL, e.g. https://dl.k8s.io/release/v1.36.0/bin/linux/amd64/kubelet */
  url: string;
  /** URL of the published checksum file, or undefined when none is published (pin it in the spec) */
  checksumUrl?: string | undefined;
  /** for archives: the member to extract; undefined for a plain binary */
  archiveMember?: string | undefined;
  path: string;
  mode: number;
}

export interface RenderedHost {
  name: string;
  files: RenderedFile[];
  units: RenderedUnit[];
  binaries: BinarySpec[];
}

export interface RenderedCluster {
  /** by host name, in the order of the input hosts */
  hosts: ReadonlyMap<string, RenderedHost>;
  /** cluster-wide files (manifests, etcd network config), paths relative to cluster/ */
  cluster: RenderedFile[];
  /** files at the root of a rendered tree, e.g. terraform/main.tf.json for a DigitalOcean spec */
  root?: RenderedFile[];
}

/** Everything a renderer needs; rendering is a pure function of this. */
export interface RenderInput {
  cluster: Cluster;
  hosts: Host[];
  credentials?: ClusterCredentials | undefined;
  /**
   * the Kubernetes patch release the binaries come from, settled by the resolve step when the spec
   * names only a minor; without it such a spec renders `v1.36.x` URLs (render shows them; plan and
   * apply always resolve first)
   */
  kubernetesVersion?: string | undefined;
  /** the read-only DigitalOcean token etcd-lookup reads on nodes (etcd.discovery.digitaloceanTag); a secret file */
  lookupToken?: string | undefined;
  /**
   * the etcd client URLs the resolve step found by tag (one listing for the whole fleet): written
   * to every node as /etc/flannel/etcd-members, so etcd-lookup finds a fresh list and asks no API
   */
  etcdMembers?: string[] | undefined;
}

// The shape of `cluster.yaml` as users write it (zod). Profile-dependent defaults are applied
// afterwards in cluster.ts, so every field that depends on the profile is optional here.
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseIPv4 } from './ipv4.ts';
import { DIGITALOCEAN_TAG_PATTERN, DIGITALOCEAN_TAG_RULE } from './digitalocean.ts';
import { preflightCheckIds } from './preflight-check-ids.ts';


const nonEmpty = z.string().min(1, { error: 'must not be empty' });
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'must be a DNS label: lowercase letters, digits and "-"' });
/** letters, digits, "." and "-", starting and ending with a letter or digit: no "/", so never "../" */
export const hostNamePattern = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/;
const hostName = z.string().regex(hostNamePattern, { error: 'must be a host name: letters, digits, "." and "-"' });
/** an IPv4 address in dotted-quad form: no names, no IPv6, nothing a unit or a shell could read differently */
const ipv4Address = z.string().refine((s) => parseIPv4(s) !== undefined, { error: 'must be an IPv4 address like 203.0.113.10' });
/** a login name (POSIX portable user name) */
const userName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, { error: 'must be a user name: letters, digits, "_", "." and "-"' });
/** a release name that becomes a path segment and a URL segment: no "/", no leading "." */
const releaseName = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/, { error: 'must be a release name like 17.03.2-ce: letters, digits, ".", "+", "_" and "-"' });
const version = z.string().regex(/^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/, { error: 'must be a version like 1.36 or 1.36.2' });
const port = z.number().int().min(1).max(65535);

/** where SSH connects: an IPv4 address or a DNS name (never IPv6, a dotted number that is no IPv4, or anything with "/", "$", "%" or spaces) */
const sshAddress = z.string().refine((s) => parseIPv4(s) !== undefined || (hostNamePattern.test(s) && !/^[\d.]+$/.test(s)), {
  error: 'must be an IPv4 address like 203.0.113.10 or a DNS name',
});

export const staticHostSchema = z.strictObject({
  name: hostName,
  address: sshAddress,
  port: port.optional(),
  user: userName.optional(),
  privateAddress: ipv4Address.optional(),
});

const doTag = z.string().regex(DIGITALOCEAN_TAG_PATTERN, { error: DIGITALOCEAN_TAG_RULE });
/** An IPv4 or IPv6 address or CIDR block, as DigitalOcean firewall rules take them. */
const addressOrCidr = z.string().refine((t) => {
  const [ip, prefix, ...rest] = t.split('/');
  const kind = isIP(ip ?? '');
  if (kind === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (kind === 4 ? 32 : 128));
}, { error: 'must be an IPv4/IPv6 address or CIDR block such as 203.0.113.7/32 or 10.110.0.0/20' });

export const firewallDefaults = { enabled: true, sshFrom: ['0.0.0.0/0', '::/0'], apiFrom: ['0.0.0.0/0', '::/0'], internalFrom: [] as string[], internalTags: [] as string[] };

export const digitaloceanFirewallSchema = z.strictObject({
  /** kubewright manages a Cloud Firewall for the pool's tag; the seed profile refuses to run without it */
  enabled: z.boolean().default(true),
  /** who may reach SSH (ssh.port): the addresses kubewright runs from */
  sshFrom: z.array(addressOrCidr).min(1, { error: 'must list at least one address or CIDR (kubewright itself connects over SSH)' }).default(firewallDefaults.sshFrom),
  /**
   * with a controlPlane section: who may reach the Kubernetes API (6443 on the masters, and the API
   * load balancer). Everywhere by default, as Typhoon and kubeadm-based tools leave it: the API
   * authenticates every request; the cluster's own droplets are always allowed.
   */
  apiFrom: z.array(addressOrCidr).min(1, { error: 'must list at least one address or CIDR (kubectl and kubewright reach the API from there)' }).default(firewallDefaults.apiFrom),
  /** beyond the pool's own tag: CIDRs (e.g. the VPC's ip_range) allowed to reach kubelet, flannel and NodePorts */
  internalFrom: z.array(addressOrCidr).default([]),
  /** beyond the pool's own tag: droplet tags (e.g. the control plane's) allowed to reach kubelet, flannel and NodePorts */
  internalTags: z.array(doTag).default([]),
});

export const digitaloceanSchema = z.strictObject({
  region: nonEmpty.default('fra1'),
  size: nonEmpty.default('s-1vcpu-1gb'),
  image: z.union([nonEmpty, z.number().int()]).default('ubuntu-24-04-x64'),
  tags: z.array(doTag).min(1).default(['k8s-worker']),
  sshKeys: z.array(z.union([nonEmpty, z.number().int()])).default([]),
  vpcUuid: z.string().nullable().default(null),
  domain: hostName,
  /** `{index}` and `{domain}` are replaced; the post's `k8s-worker-{index}.{domain}` by default */
  namePattern: z.string().includes('{index}', { error: 'must contain {index}' }).default('k8s-worker-{index}.{domain}'),
  firewall: digitaloceanFirewallSchema.default(firewallDefaults),
});

export const providerSchema = z
  .strictObject({
    digitalocean: digitaloceanSchema.optional(),
    static: z.strictObject({ hosts: z.array(staticHostSchema).min(1, { error: 'must list at least one host' }) }).optional(),
    lab: z.strictObject({
      hosts: z.number().int().min(1).max(50),
      /** the /24 the lab bridge uses; hosts get .11, .12, ... */
      subnet: nonEmpty.default('10.213.0.0/24'),
      bridge: z.string().regex(/^[a-z][a-z0-9]{0,14}$/, { error: 'must be an interface name of ≤ 15 lowercase characters' }).default('kwlab0'),
    }).optional(),
    terraform: z.strictObject({ outputFile: nonEmpty }).optional(),
  });

/** etcd keeps a majority only with an odd member count; 1, 3 and 5 are what kubeadm and etcd's docs recommend */
const memberCount = z.union([z.literal(1), z.literal(3), z.literal(5)], { error: 'must be 1, 3 or 5 (etcd needs an odd number of members to keep a majority)' });

export const controlPlaneSchema = z.strictObject({
  /** how many control-plane hosts; static: defaults to the number of controlPlane.hosts */
  count: memberCount.optional(),
  /** provider.static only: the control-plane hosts */
  hosts: z.array(staticHostSchema).min(1, { error: 'must list at least one host' }).optional(),
  /** absent: etcd runs on the control-plane hosts (stacked); with count/hosts: on hosts of its own */
  etcd: z.strictObject({
    count: memberCount.optional(),
    /** provider.static only: the etcd hosts */
    hosts: z.array(staticHostSchema).min(1, { error: 'must list at least one host' }).optional(),
  }).optional(),
  /** where workers and kubectl reach the API servers; derived when left out (see docs/control-plane.md) */
  endpoint: z.strictObject({
    address: ipv4Address.optional(),
    dnsName: hostName.optional(),
    port: port.default(6443),
  }).optional(),
});

export const specSchema = z.strictObject({
  apiVersion: z.literal('kubewright.dev/v1alpha1', { error: 'must be kubewright.dev/v1alpha1' }),
  kind: z.literal('Cluster', { error: 'must be Cluster' }),
  metadata: z.strictObject({ name: dnsLabel }),
  profile: z.enum(['modern', 'seed']).default('modern'),
  kubernetes: z.strictObject({
    version: version.optional(),
    /** required without controlPlane; with it, derived from controlPlane.endpoint unless set */
    apiServer: z.url({ protocol: /^https$/, error: 'must be an https:// URL of the API server' }).optional(),
    clusterDomain: hostName.default('cluster.local'),
    clusterDNS: nonEmpty.default('10.32.0.10'),
    serviceCIDR: nonEmpty.default('10.32.0.0/24'),
    podCIDR: nonEmpty.default('10.200.0.0/16'),
    kubeProxyMode: z.enum(['iptables', 'nftables', 'ipvs']).default('iptables'),
  }),
  provider: providerSchema,
  controlPlane: controlPlaneSchema.optional(),
  workers: z.strictObject({ count: z.number().int().min(1, { error: 'must be ≥ 1' }).max(10000) }).optional(),
  etcd: z.strictObject({
    discovery: z.strictObject({
      digitaloceanTag: doTag.optional(),
      endpoints: z.array(z.url({ protocol: /^https?$/, error: 'must be a URL like https://10.0.0.5:2379' })).optional(),
    }).default({}),
    // flanneld's ExecStart= carries it: systemd expands $ and % there, so only plain key characters
    prefix: z.string().regex(/^(\/[A-Za-z0-9_.~-]+)+$/, { error: 'must be an absolute key prefix like /flannel.com/network: "/"-separated letters, digits, ".", "_", "~" and "-" (no trailing /)' }).default('/flannel.com/network'),
  }).default({ discovery: {}, prefix: '/flannel.com/network' }),
  flannel: z.strictObject({
    backend: z.enum(['vxlan', 'host-gw', 'wireguard']).default('vxlan'),
    ipMasq: z.boolean().default(true),
    subnetLen: z.number().int().min(8).max(30).default(24),
  }).default({ backend: 'vxlan', ipMasq: true, subnetLen: 24 }),
  runtime: z.enum(['containerd', 'docker']).optional(),
  dns: z.enum(['coredns', 'kube-dns']).optional(),
  versions: z.strictObject({
    flannel: version.optional(),
    etcd: version.optional(),
    containerd: version.optional(),
    runc: version.optional(),
    cniPlugins: version.optional(),
    flannelCniPlugin: releaseName.optional(),
    docker: releaseName.optional(),
    coredns: version.optional(),
    kubeDns: version.optional(),
  }).default({}),
  pki: z.strictObject({
    dir: nonEmpty.default('./pki'),
    algo: z.enum(['ecdsa', 'rsa']).default('ecdsa'),
    size: z.number().int().optional(),
    names: z.strictObject({
      C: z.string().optional(), L: z.string().optional(), ST: z.string().optional(),
      O: z.string().optional(), OU: z.string().optional(),
    }).default({}),
  }).default({ dir: './pki', algo: 'ecdsa', names: {} }),
  ssh: z.strictObject({
    user: userName.default('root'),
    port: port.default(22),
    privateKeyPath: nonEmpty.default('~/.ssh/id_ed25519'),
    publicKeyPath: nonEmpty.optional(),
    knownHostsPath: nonEmpty.default('./known_hosts'),
  }).default({ user: 'root', port: 22, privateKeyPath: '~/.ssh/id_ed25519', knownHostsPath: './known_hosts' }),
  artifacts: z.strictObject({
    /** a directory or http(s) base URL laid out as <mirror>/<upstream host>/<upstream path> */
    mirror: z.string().nullable().default(null),
    /** sha256 pins by artifact URL (upstream form); required for artifacts with no published checksum */
    checksums: z.record(z.string(), z.string().regex(/^[a-f0-9]{64}$/, { error: 'must be a sha256 hex digest' })).default({}),
  }).default({ mirror: null, checksums: {} }),
  preflight: z.strictObject({
    /** kubeadm's nodeRegistration.ignorePreflightErrors: checks whose blocking findings are accepted knowingly, or all */
    ignoreErrors: z.array(z.enum([...preflightCheckIds, 'all'])).default([]),
  }).default({ ignoreErrors: [] }),
});

export type ParsedSpec = z.output<typeof specSchema>;

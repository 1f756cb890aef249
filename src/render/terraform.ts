// Terraform JSON for the worker droplets (pure, deterministic): the post's
// `digitalocean_droplet.worker_server` with modern arguments — `size` slug, `vpc_uuid` instead of
// the deprecated `private_networking` (every droplet now gets a VPC interface), a tag resource,
// and a per-droplet ED25519 host key (hashicorp/tls) injected through cloud-init user_data, so
// the first SSH connection can be verified, and the workers' Cloud Firewall (`digitalocean_firewall`,
// the same rules `up` keeps through the API). With a controlPlane section: the masters' (and
// external etcd's) droplets and firewalls, one resource per role named and tagged as the API-driven provider
// names and tags them (spec/control-plane-droplets.ts), and with more than one master the API's
// `digitalocean_loadbalancer` (TCP 6443 to the masters' tag, TCP health check).
// Outputs: names, public and private IPv4, host keys (per role), the balancer's IP.
import type { Cluster, ProviderSpec } from '../spec/cluster.ts';
import { apiLoadBalancerDesign, controlPlaneDropletRoles } from '../spec/control-plane-droplets.ts';
import { terraformOutputNames } from '../spec/terraform-outputs.ts';
import { designControlPlaneFirewalls, designFirewall, type FirewallDesign, type FirewallRule } from '../spec/firewall-rules.ts';
import type { RenderedFile } from './types.ts';

// provider constraints: digitalocean 2.x (vpc_uuid, tags by id), tls ≥ 4.0 (ED25519 keys)
export const terraformProviders = {
  digitalocean: { source: 'digitalocean/digitalocean', version: '~> 2.0' },
  tls: { source: 'hashicorp/tls', version: '~> 4.0' },
} as const;

/** A Terraform identifier for a DigitalOcean tag name (`k8s-worker` → `k8s_worker`). */
export function terraformTagResourceName(tag: string): string {
  const id = tag.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `tag_${id}`;
}

type DigitalOceanSpec = Extract<ProviderSpec, { kind: 'digitalocean' }>;

/** Escapes literal text for a Terraform template string (`${` and `%{` start interpolations). */
function literal(text: string): string {
  // a function replacement: in a replacement string, `$$` would collapse to `$`
  return text.replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`);
}

/** A droplet pool's resource: `count` droplets named by `namePattern`, each with its own host key through cloud-init. */
function dropletResource(p: DigitalOceanSpec, namePattern: string, tags: string[], count: number, keyResource: string): Record<string, unknown> {
  const name = namePattern
    .split('{index}')
    .map((part) => literal(part.replaceAll('{domain}', p.domain)))
    .join('${count.index}');
  const key = `tls_private_key.${keyResource}[count.index]`;
  const userData = [
    '#cloud-config',
    'ssh_deletekeys: true',
    'ssh_genkeytypes: [ed25519]',
    'ssh_keys:',
    `  ed25519_private: \${jsonencode(${key}.private_key_openssh)}`,
    `  ed25519_public: \${jsonencode(trimspace(${key}.public_key_openssh))}`,
    '',
  ].join('\n');
  const droplet: Record<string, unknown> = {
    count,
    image: typeof p.image === 'number' ? String(p.image) : p.image,
    name,
    region: p.region,
    size: p.size,
    tags: tags.map((t) => `\${digitalocean_tag.${terraformTagResourceName(t)}.id}`),
    ssh_keys: p.sshKeys.map(String),
  };
  if (p.vpcUuid) droplet['vpc_uuid'] = p.vpcUuid;
  droplet['user_data'] = userData;
  return droplet;
}

/** The Terraform resource names of a control-plane role's droplets and host keys. */
const roleResource = { 'control-plane': { droplet: 'master_server', key: 'master_host_key' }, etcd: { droplet: 'etcd_server', key: 'etcd_host_key' } } as const;

export function renderTerraformJson(cluster: Cluster): string {
  const p = cluster.provider;
  if (p.kind !== 'digitalocean') throw new Error(`renderTerraformJson: provider.${p.kind} is not provider.digitalocean`);
  const count = cluster.workers.count;
  const roles = controlPlaneDropletRoles(cluster);
  const allTags = [...new Set([...p.tags, ...roles.flatMap((r) => r.tags)])];
  const tagResources = Object.fromEntries(allTags.map((t) => [terraformTagResourceName(t), { name: t }]));
  const droplet = dropletResource(p, p.namePattern, p.tags, count, 'worker_host_key');
  const droplets: Record<string, unknown> = { worker_server: droplet };
  const hostKeys: Record<string, unknown> = { worker_host_key: { count, algorithm: 'ED25519' } };
  for (const r of roles) {
    const names = roleResource[r.role];
    droplets[names.droplet] = dropletResource(p, r.namePattern, r.tags, r.count, names.key);
    hostKeys[names.key] = { count: r.count, algorithm: 'ED25519' };
  }

  const design = designFirewall(cluster);
  const poolTagRefs = new Map(allTags.map((t) => [t, `\${digitalocean_tag.${terraformTagResourceName(t)}.id}`]));
  // tags kubewright's Terraform creates are referenced through their resource, so Terraform creates them first
  const tagRef = (t: string): string => poolTagRefs.get(t) ?? t;
  const tfRule = (r: FirewallRule, side: 'source' | 'destination'): Record<string, unknown> => ({
    protocol: r.protocol,
    // the provider's spelling of every port is 1-65535; icmp takes none
    ...(r.protocol === 'icmp' ? {} : { port_range: r.ports === 'all' ? '1-65535' : r.ports }),
    ...(r.addresses.length ? { [`${side}_addresses`]: r.addresses } : {}),
    ...(r.tags.length ? { [`${side}_tags`]: r.tags.map(tagRef) } : {}),
    ...(r.loadBalancers?.length ? { [`${side}_load_balancer_uids`]: r.loadBalancers } : {}),
  });
  const tfFirewall = (d: FirewallDesign): Record<string, unknown> => ({
    name: d.name,
    tags: d.tags.map(tagRef),
    inbound_rule: d.inbound.map((r) => tfRule(r, 'source')),
    outbound_rule: d.outbound.map((r) => tfRule(r, 'destination')),
  });
  // the masters' firewall admits the API balancer by its id
  const [masters, etcd] = designControlPlaneFirewalls(cluster, apiLoadBalancerDesign(cluster) ? '${digitalocean_loadbalancer.api.id}' : undefined);
  const firewalls = {
    ...(design ? { workers: tfFirewall(design) } : {}),
    ...(masters ? { control_plane: tfFirewall(masters) } : {}),
    ...(etcd ? { etcd: tfFirewall(etcd) } : {}),
  };
  const firewall = Object.keys(firewalls).length ? { digitalocean_firewall: firewalls } : {};

  const doc = {
    '//': `generated by kubewright from cluster ${cluster.name}; edit the cluster spec, not this file. Token: DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN.`,
    terraform: { required_providers: terraformProviders },
    provider: { digitalocean: {} },
    resource: {
      digitalocean_tag: tagResources,
      tls_private_key: hostKeys,
      digitalocean_droplet: droplets,
      ...firewall,
      ...loadBalancer(cluster),
    },
    output: {
      [terraformOutputNames.names]: { value: '${digitalocean_droplet.worker_server[*].name}' },
      [terraformOutputNames.publicIPv4]: { value: '${digitalocean_droplet.worker_server[*].ipv4_address}' },
      [terraformOutputNames.privateIPv4]: { value: '${digitalocean_droplet.worker_server[*].ipv4_address_private}' },
      [terraformOutputNames.hostKeys]: { value: '${[for k in tls_private_key.worker_host_key : trimspace(k.public_key_openssh)]}' },
      ...controlPlaneOutputs(roles.map((r) => r.role), apiLoadBalancerDesign(cluster) !== undefined),
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The API load balancer (more than one master): TCP pass-through to the masters by tag, TCP health check. */
function loadBalancer(cluster: Cluster): Record<string, unknown> {
  const lb = apiLoadBalancerDesign(cluster);
  if (!lb) return {};
  const body: Record<string, unknown> = {
    name: lb.name,
    region: lb.region,
    droplet_tag: `\${digitalocean_tag.${terraformTagResourceName(lb.dropletTag)}.name}`,
    forwarding_rule: [{ entry_protocol: 'tcp', entry_port: lb.entryPort, target_protocol: 'tcp', target_port: lb.targetPort }],
    healthcheck: {
      protocol: lb.healthCheck.protocol,
      port: lb.healthCheck.port,
      check_interval_seconds: lb.healthCheck.checkIntervalSeconds,
      response_timeout_seconds: lb.healthCheck.responseTimeoutSeconds,
      healthy_threshold: lb.healthCheck.healthyThreshold,
      unhealthy_threshold: lb.healthCheck.unhealthyThreshold,
    },
  };
  if (lb.vpcUuid) body['vpc_uuid'] = lb.vpcUuid;
  if (lb.allowFrom) body['firewall'] = { allow: lb.allowFrom };
  return { digitalocean_loadbalancer: { api: body } };
}

/** Outputs for the masters (and etcd's own hosts) and the API endpoint's address. */
function controlPlaneOutputs(roles: (keyof typeof roleResource)[], balanced: boolean): Record<string, { value: string }> {
  const out: Record<string, { value: string }> = {};
  for (const role of roles) {
    const { droplet, key } = roleResource[role];
    const prefix = role === 'control-plane' ? 'master' : 'etcd';
    out[`${prefix}_names`] = { value: `\${digitalocean_droplet.${droplet}[*].name}` };
    out[`${prefix}_ipv4_addresses`] = { value: `\${digitalocean_droplet.${droplet}[*].ipv4_address}` };
    out[`${prefix}_ipv4_private_addresses`] = { value: `\${digitalocean_droplet.${droplet}[*].ipv4_address_private}` };
    out[`${prefix}_ssh_host_keys`] = { value: `\${[for k in tls_private_key.${key} : trimspace(k.public_key_openssh)]}` };
  }
  if (balanced) out['api_load_balancer_ip'] = { value: '${digitalocean_loadbalancer.api.ip}' };
  return out;
}

/** `terraform/main.tf.json` as a rendered file, for `kubewright render`. */
export function renderTerraformFiles(cluster: Cluster): RenderedFile[] {
  if (cluster.provider.kind !== 'digitalocean') return [];
  return [{ path: 'terraform/main.tf.json', mode: 0o644, contents: renderTerraformJson(cluster) }];
}

// The commented starter spec `kubewright init` writes: the embedded default cluster.
// It uses static hosts on documentation addresses (RFC 5737), so `render` and `plan` work
// without a cloud account; swap the provider block for digitalocean or lab to go live.
// The first line points editors (yaml-language-server) at the JSON Schema init writes beside it.
export const starterSpec = `# yaml-language-server: $schema=./kubewright.schema.json
# kubewright cluster spec — every field is explained; delete what you don't need.
apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
# modern (default): current Kubernetes, containerd, flannel on etcd v3, CoreDNS, per-node certificates.
# seed: the 2017 post reproduced (Kubernetes 1.8, docker 17.03, flannel 0.9 on etcd v2, kube-dns).
profile: modern
kubernetes:
  version: "1.36"                  # a minor resolves via stable-1.36.txt; or a full "1.36.2"
  apiServer: https://api.demo.example.com:6443
  clusterDomain: cluster.local
  clusterDNS: 10.32.0.10           # must be inside serviceCIDR; the DNS Service gets this address
  serviceCIDR: 10.32.0.0/24
  podCIDR: 10.200.0.0/16           # flannel hands each node a /24 of it
  kubeProxyMode: iptables          # iptables | nftables (Kubernetes >= 1.33) | ipvs
# Exactly one provider. Static hosts are machines you already have, reached over SSH.
provider:
  static:
    hosts:
      - { name: worker-0, address: 192.0.2.10, privateAddress: 10.0.0.10 }
      - { name: worker-1, address: 192.0.2.11, privateAddress: 10.0.0.11 }
      - { name: worker-2, address: 192.0.2.12, privateAddress: 10.0.0.12 }
  # digitalocean:                  # token from DIGITALOCEAN_ACCESS_TOKEN or --token-file, never here
  #   region: fra1
  #   size: s-1vcpu-1gb
  #   image: ubuntu-24-04-x64
  #   tags: [k8s-worker]
  #   sshKeys: ["3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"]
  #   domain: example.com          # workers are named k8s-worker-{index}.example.com
  # lab: { hosts: 3 }              # local systemd-nspawn machines (root, systemd-container, debootstrap)
# workers: { count: 3 }            # for digitalocean; static hosts count themselves
# Without controlPlane, the control plane exists already (kubernetes.apiServer, etcd.discovery).
# With it, kubewright builds that too: an etcd cluster, kube-apiserver, kube-controller-manager
# and kube-scheduler (docs/control-plane.md); leave kubernetes.apiServer and etcd.discovery out,
# they are derived from the endpoint and the etcd members.
# controlPlane:
#   count: 3                       # 1, 3 or 5 (etcd keeps a majority only with an odd count)
#   hosts:                         # static only; digitalocean makes droplets k8s-master-{index}.{domain}
#     - { name: master-0, address: 192.0.2.20, privateAddress: 10.0.0.20 }
#     - { name: master-1, address: 192.0.2.21, privateAddress: 10.0.0.21 }
#     - { name: master-2, address: 192.0.2.22, privateAddress: 10.0.0.22 }
#   # etcd: { count: 3 }           # etcd on hosts of its own (static: etcd.hosts); absent: on the masters
#   endpoint:                      # 3 or 5 static masters: your balancer's name; digitalocean makes one
#     dnsName: api.demo.example.com
#     port: 6443
etcd:
  discovery:
    endpoints: [https://10.0.0.2:2379]   # or digitaloceanTag: k8s-etcd
  prefix: /flannel.com/network     # flannel reads <prefix>/config
flannel:
  backend: vxlan
  ipMasq: true
# runtime: containerd              # containerd (modern) | docker (seed, Kubernetes < 1.24)
# dns: coredns                     # coredns (modern) | kube-dns (seed)
pki:
  dir: ./pki                       # CA and certificates (keys 0600)
  names: { C: DE, L: NW, ST: Wesel }
ssh:
  user: root
  privateKeyPath: ~/.ssh/id_ed25519
  knownHostsPath: ./known_hosts    # host keys are pinned, never trusted on first use
artifacts:
  mirror: null                     # a directory or URL laid out as <mirror>/<host>/<path> for air-gapped sites
`;

#!/bin/sh
# TEST DOUBLE: a stand-in flanneld (served by the e2e artifact mirror as the flanneld binary; the
# real one needs a kernel vxlan device the lab machines can't create). It takes the flags the
# rendered flanneld.service passes, reads the network config kubewright wrote to
# <etcd-prefix>/config over etcd's v3 JSON gateway with the node's TLS client certificate, and
# does what flanneld does next: takes a /24 of that network, writes /run/flannel/subnet.env and
# its lease <prefix>/subnets/<subnet> (bound to a 24 h etcd lease, PublicIP = this node), then
# stays running. Without a network config it exits 1 (systemd restarts it), as flanneld does.
set -u
endpoints= prefix=/coreos.com/network ca= cert= key=
for a in "$@"; do
  case "$a" in
    -etcd-endpoints=*) endpoints=${a#*=} ;;
    -etcd-prefix=*) prefix=${a#*=} ;;
    -etcd-cafile=*) ca=${a#*=} ;;
    -etcd-certfile=*) cert=${a#*=} ;;
    -etcd-keyfile=*) key=${a#*=} ;;
  esac
done
endpoint=${endpoints%%,*}
[ -n "$endpoint" ] || { echo "stand-in flanneld: no -etcd-endpoints" >&2; exit 1; }
b64() { printf '%s' "$1" | base64 -w0; }
etcd() { # path json-body
  curl -sS --max-time 5 --cacert "$ca" --cert "$cert" --key "$key" -X POST "$endpoint$1" --data-binary "$2"
}
range=$(etcd /v3/kv/range "{\"key\":\"$(b64 "$prefix/config")\"}") || { echo "stand-in flanneld: etcd $endpoint unreachable" >&2; exit 1; }
config=$(printf '%s' "$range" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p' | base64 -d)
[ -n "$config" ] || { echo "stand-in flanneld: no network config at $prefix/config ($range)" >&2; exit 1; }
network=$(printf '%s' "$config" | tr -d ' \n' | sed -n 's/.*"Network":"\([0-9.]*\/[0-9]*\)".*/\1/p')
backend=$(printf '%s' "$config" | tr -d ' \n' | sed -n 's/.*"Type":"\([a-z-]*\)".*/\1/p')
[ -n "$network" ] || { echo "stand-in flanneld: no Network in $config" >&2; exit 1; }
ip=$(hostname -I | cut -d' ' -f1)
# the /24 numbered after this node's last address octet (flannel picks a free one at random)
base=$(printf '%s' "$network" | cut -d. -f1-2)
subnet="$base.${ip##*.}.0"
grant=$(etcd /v3/lease/grant '{"TTL":86400}') || exit 1
lease=$(printf '%s' "$grant" | sed -n 's/.*"ID":"\([0-9]*\)".*/\1/p')
value="{\"PublicIP\":\"$ip\",\"PublicIPv6\":null,\"BackendType\":\"${backend:-vxlan}\",\"BackendData\":{\"VNI\":1}}"
etcd /v3/kv/put "{\"key\":\"$(b64 "$prefix/subnets/$subnet-24")\",\"value\":\"$(b64 "$value")\",\"lease\":\"$lease\"}" >/dev/null || exit 1
mkdir -p /run/flannel
printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=%s/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' "$network" "${subnet%.0}.1" >/run/flannel/subnet.env
echo "stand-in flanneld: lease $subnet/24 for $ip in $prefix/subnets"
exec sleep infinity

#!/bin/sh
# TEST DOUBLE: a stand-in kubelet (there is no kubelet binary on this machine). It reads the
# node's rendered kubeconfig and the certificates it names, connects to the API server the
# kubeconfig points at, registers its Node and posts a Ready heartbeat every few seconds with
# a kubelet version — what a real kubelet's node status loop does, in POSIX sh with curl.
#
# usage: stand-in-kubelet.sh --kubeconfig FILE --node-name NAME --kubelet-version vX.Y.Z
#                            [--interval SECONDS] [--max-beats N] [--address IP]
set -u
kubeconfig=/etc/kubernetes/kubelet.kubeconfig
node=$(hostname)
version=v0.0.0
interval=2
max_beats=5000
address=
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) kubeconfig=$2; shift 2 ;;
    --node-name) node=$2; shift 2 ;;
    --kubelet-version) version=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --max-beats) max_beats=$2; shift 2 ;;
    --address) address=$2; shift 2 ;;
    *) echo "stand-in-kubelet: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/stand-in-kubelet.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 0' TERM INT

# one kubeconfig field (first occurrence), unquoted
field() {
  sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$kubeconfig" | head -n 1 | sed "s/^[\"']//; s/[\"']\$//"
}
# a credential: the file a *-data field decodes to, else the path field
credential() { # data-field path-field out-name
  data=$(field "$1")
  if [ -n "$data" ]; then printf '%s' "$data" | base64 -d >"$work/$3"; echo "$work/$3"; else field "$2"; fi
}

[ -r "$kubeconfig" ] || { echo "stand-in-kubelet: cannot read $kubeconfig" >&2; exit 1; }
server=$(field server)
ca=$(credential certificate-authority-data certificate-authority ca.pem)
cert=$(credential client-certificate-data client-certificate cert.pem)
key=$(credential client-key-data client-key key.pem)
for f in "$ca" "$cert" "$key"; do [ -r "$f" ] || { echo "stand-in-kubelet: cannot read $f (named in $kubeconfig)" >&2; exit 1; }; done
echo "stand-in-kubelet: node $node -> $server (ca $ca, cert $cert)"

api() { # method path content-type body
  curl -sS --max-time 5 --cacert "$ca" --cert "$cert" --key "$key" -o "$work/out" -w '%{http_code}' \
    -X "$1" -H "Content-Type: $3" --data-binary "$4" "$server$2"
}
# sub-second timestamps: a whole-second stamp makes a fresh heartbeat look up to 1 s old, which
# eats the staleness margin on a busy machine (a date without %N prints it literally: fall back)
now() {
  t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  case "$t" in *N*) date -u +%Y-%m-%dT%H:%M:%SZ ;; *) echo "$t" ;; esac
}
addresses() {
  if [ -n "$address" ]; then printf ',"addresses":[{"type":"InternalIP","address":"%s"},{"type":"Hostname","address":"%s"}]' "$address" "$node"; fi
}
status() {
  t=$(now)
  printf '{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"%s","lastTransitionTime":"%s"}],"nodeInfo":{"kubeletVersion":"%s","kubeProxyVersion":"%s","operatingSystem":"linux","architecture":"amd64"}%s}' "$t" "$t" "$version" "$version" "$(addresses)"
}

registered=
beats=0
while [ "$beats" -lt "$max_beats" ]; do
  beats=$((beats + 1))
  if [ -z "$registered" ]; then
    code=$(api POST /api/v1/nodes application/json "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$node\",\"labels\":{\"kubernetes.io/hostname\":\"$node\"}},\"status\":$(status)}")
    case "$code" in
      201|409) registered=1; echo "stand-in-kubelet: registered node $node ($code)" ;;
      *) echo "stand-in-kubelet: registering node $node failed: HTTP $code $(cat "$work/out" 2>/dev/null)" >&2 ;;
    esac
  else
    code=$(api PATCH "/api/v1/nodes/$node/status" application/merge-patch+json "{\"status\":$(status)}")
    [ "$code" = 200 ] || echo "stand-in-kubelet: heartbeat failed: HTTP $code $(cat "$work/out" 2>/dev/null)" >&2
  fi
  sleep "$interval" &
  wait $!
done

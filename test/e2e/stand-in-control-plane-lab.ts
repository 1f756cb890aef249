// TEST DOUBLES: kube-apiserver, kube-controller-manager and kube-scheduler as the lab end-to-end
// test's artifact mirror serves them (the real binaries cannot run here, and the lab image has no
// Node.js for test/support/stand-in-control-plane.ts). POSIX sh with the image's openssl, curl and
// perl. Like the real binaries at start-up they read what their flags point at:
//   - kube-apiserver: every flag value that is an absolute path must be a readable file; each
//     certificate/key pair it is given must match (openssl); its etcd client certificate must be
//     accepted by the first etcd server it names (GET /health with --etcd-cafile/-certfile/-keyfile,
//     a REAL etcd); then it forwards TCP on --bind-address:--secure-port to the Kubernetes API TEST
//     DOUBLE (test/support/kube-api-double.ts) on this machine's bridge address. TLS ends at the
//     double, which serves kubewright's own kube-apiserver certificate and key from the PKI: the
//     client sees the rendered serving certificate, as behind a TCP load balancer;
//   - kube-controller-manager, kube-scheduler: read the kubeconfig their --kubeconfig (or
//     --authentication-kubeconfig) names, and GET /version from its server with its CA and client
//     certificate until it answers 200 (the double records the caller's CN), then serve /healthz
//     on their secure port (10257, 10259) over HTTPS with a self-signed certificate (openssl s_server).
// They run no control loop and store nothing: the flags themselves are held to the upstream flag
// table by test/render/control-plane-stand-ins.test.ts, not here.

/** Forwards every connection to host:port, both ways, until either side closes. Core perl only. */
const forwarder = String.raw`use strict; use IO::Socket::INET; use IO::Select;
my ($lh, $lp, $uh, $up) = @ARGV; $SIG{CHLD} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalAddr => $lh, LocalPort => $lp, Listen => 64, ReuseAddr => 1) or die "kube-apiserver (stand-in): listen $lh:$lp: $!\n";
print STDERR "kube-apiserver (stand-in): forwarding $lh:$lp to $uh:$up\n";
while (1) {
  my $c = $l->accept or next; my $pid = fork;
  if (!defined $pid || $pid) { close $c; next }
  close $l; my $u = IO::Socket::INET->new(PeerAddr => $uh, PeerPort => $up) or exit 1;
  my $s = IO::Select->new($c, $u); my $buf;
  while (1) { for my $r ($s->can_read) {
    my $n = sysread($r, $buf, 65536); exit 0 unless $n;
    my $o = $r == $c ? $u : $c; my $off = 0;
    while ($off < $n) { my $w = syswrite($o, $buf, $n - $off, $off); exit 0 unless defined $w; $off += $w }
  } }
}`;

const common = String.raw`die() { echo "$KW_NAME (stand-in): $*" >&2; exit 1; }
pair() { # cert key
  [ "$(openssl x509 -noout -pubkey -in "$1" 2>/dev/null)" = "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ] || die "$2 does not belong to $1"
}
readable() { # every flag value that is an absolute path names a readable file
  for a in "$@"; do case "$a" in --*=/*) f=$(printf %s "$a" | cut -d= -f2-); [ -r "$f" ] || die "cannot read $f ($a)" ;; esac; done
}
readable "$@"`;

export function standInApiServer(upstreamHost: string, upstreamPort: number): string {
  return `#!/bin/sh
# TEST DOUBLE: kube-apiserver (test/e2e/stand-in-control-plane-lab.ts)
KW_NAME=kube-apiserver
${common}
bind=0.0.0.0; port=6443; etcd=; ecafile=; ecert=; ekey=
for a in "$@"; do
  case "$a" in
    --bind-address=*) bind=\${a#*=} ;;
    --secure-port=*) port=\${a#*=} ;;
    --etcd-servers=*) etcd=\${a#*=}; etcd=\${etcd%%,*} ;;
    --etcd-cafile=*) ecafile=\${a#*=} ;;
    --etcd-certfile=*) ecert=\${a#*=} ;;
    --etcd-keyfile=*) ekey=\${a#*=} ;;
    --tls-cert-file=*) tcert=\${a#*=} ;;
    --tls-private-key-file=*) tkey=\${a#*=} ;;
    --kubelet-client-certificate=*) kcert=\${a#*=} ;;
    --kubelet-client-key=*) kkey=\${a#*=} ;;
    --proxy-client-cert-file=*) pcert=\${a#*=} ;;
    --proxy-client-key-file=*) pkey=\${a#*=} ;;
    --*) ;;
    *) die "unexpected argument $a" ;;
  esac
done
[ -n "$etcd" ] && [ -n "$ecafile" ] && [ -n "$ecert" ] && [ -n "$ekey" ] || die "no etcd servers or etcd client TLS flags"
pair "$tcert" "$tkey"; pair "$kcert" "$kkey"; pair "$pcert" "$pkey"; pair "$ecert" "$ekey"
i=0
until curl -sf --max-time 3 --cacert "$ecafile" --cert "$ecert" --key "$ekey" "$etcd/health" | grep -q '"health":"true"'; do
  i=$((i + 1)); [ $i -lt 60 ] || die "etcd at $etcd did not answer healthy to the etcd client certificate"
  sleep 1
done
exec perl -e '${forwarder.replaceAll("'", "'\\''")}' "$bind" "$port" ${upstreamHost} ${upstreamPort}
`;
}

export function standInKubeClient(name: 'kube-controller-manager' | 'kube-scheduler'): string {
  return `#!/bin/sh
# TEST DOUBLE: ${name} (test/e2e/stand-in-control-plane-lab.ts)
KW_NAME=${name}
${common}
kc=; hbind=0.0.0.0; hport=${name === 'kube-controller-manager' ? 10257 : 10259}
for a in "$@"; do
  case "$a" in
    --bind-address=*) hbind=\${a#*=} ;;
    --secure-port=*) hport=\${a#*=} ;;
    --kubeconfig=*) kc=\${a#*=} ;;
    --authentication-kubeconfig=*) [ -n "$kc" ] || kc=\${a#*=} ;;
  esac
done
[ -n "$kc" ] || die "no kubeconfig flag"
field() { sed -n "s/^ *$1: *//p" "$kc" | head -n 1; }
server=$(field server); ca=$(field certificate-authority); cert=$(field client-certificate); key=$(field client-key)
for f in "$ca" "$cert" "$key"; do [ -r "$f" ] || die "$kc names $f, which cannot be read"; done
pair "$cert" "$key"
i=0
until [ "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' --cacert "$ca" --cert "$cert" --key "$key" "$server/version")" = 200 ]; do
  i=$((i + 1)); [ $i -lt 60 ] || die "$server/version did not answer 200 to $cert"
  sleep 1
done
echo "${name} (stand-in): connected to $server"
# like the binary (1.13 on): /healthz anonymously over HTTPS on the secure port with a self-signed
# certificate (openssl s_server -www answers every GET with 200), where verify's probe asks it
tls=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=${name}@stand-in" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null || die "cannot make a self-signed certificate"
exec openssl s_server -quiet -www -accept "$hbind:$hport" -cert "$tls/cert.pem" -key "$tls/key.pem"
`;
}

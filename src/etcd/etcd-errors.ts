// The ways talking to etcd fails, each with the fix. Transport and TLS failures are exit 1
// (failure on an API); a refused network-config change is exit 1 too, with --force as the way out.
import { KubewrightError } from '../errors.ts';

/** No member answered: every endpoint refused, timed out or could not be resolved. */
export class EtcdUnreachableError extends KubewrightError {
  readonly endpoints: string[];
  constructor(endpoints: string[], reasons: string[]) {
    const tried = endpoints.length === 0 ? 'no endpoints to try' : `tried ${reasons.join('; ')}`;
    super(`etcd: no reachable member (${tried})`, {
      hint:
        endpoints.length === 0
          ? 'set etcd.discovery.endpoints or etcd.discovery.digitaloceanTag in the spec (or pass --endpoints)'
          : 'check that etcd runs and listens on these client URLs (etcd --listen-client-urls), and that a firewall lets you reach port 2379',
    });
    this.endpoints = endpoints;
  }
}

/** etcd's serving certificate did not verify against the CA we were given. */
export class EtcdServerCertificateError extends KubewrightError {
  constructor(endpoint: string, why: string) {
    super(`etcd ${endpoint}: server certificate not trusted (${why})`, {
      hint: "pass the CA that signed etcd's serving certificate (--etcd-ca, default <pki.dir>/etcd-ca.pem), and make sure the certificate lists this address as an IP SAN",
    });
  }
}

/** etcd runs with --client-cert-auth and refused our client certificate (or our lack of one). */
export class EtcdClientCertificateError extends KubewrightError {
  constructor(endpoint: string, certificate: string | undefined) {
    super(
      certificate === undefined
        ? `etcd ${endpoint}: TLS client certificate required (etcd runs with --client-cert-auth) and none was given`
        : `etcd ${endpoint}: rejected the TLS client certificate ${certificate}`,
      {
        hint:
          certificate === undefined
            ? "pass flannel's etcd client certificate and key (--etcd-cert/--etcd-key, default <pki.dir>/etcd-client.pem and etcd-client-key.pem)"
            : "issue the client certificate from the CA in etcd's --trusted-ca-file (kubewright pki), with extended key usage clientAuth",
      },
    );
  }
}

/** etcd has auth enabled and the user (the client certificate's CN) may not do this. */
export class EtcdAuthError extends KubewrightError {
  constructor(endpoint: string, user: string | undefined, what: string, why: string) {
    super(`etcd ${endpoint}: ${what} rejected: ${why}${user ? ` (user "${user}" from the client certificate's CN)` : ''}`, {
      hint: `etcd has auth enabled: create the user and grant it readwrite on the flannel prefix, e.g. \`etcdctl user add ${user ?? '<CN>'} --no-password && etcdctl role add flannel && etcdctl role grant-permission flannel --prefix=true readwrite <prefix>/ && etcdctl user grant-role ${user ?? '<CN>'} flannel\``,
    });
  }
}

/** The v2 keys API answered 404: etcd ≥ 3.4 serves it only with --enable-v2, 3.6 removed it. */
export class EtcdV2DisabledError extends KubewrightError {
  constructor(endpoint: string) {
    super(`etcd ${endpoint}: the v2 keys API is disabled (HTTP 404 on /v2/keys)`, {
      hint: 'flannel < 0.18 (the seed profile) reads etcd v2: start etcd 3.4/3.5 with --enable-v2=true (etcd 3.6 removed v2), or use flannel ≥ 0.18 (modern profile, etcd v3)',
    });
  }
}

/** Somebody changed the key between our read and our write. */
export class EtcdConflictError extends KubewrightError {
  constructor(key: string) {
    super(`etcd: ${key} changed while kubewright was writing it`, { hint: 'something else writes this key; re-run to compare against the new value' });
  }
}

/** etcd answered with something we can't use. */
export class EtcdResponseError extends KubewrightError {
  constructor(endpoint: string, what: string, why: string) {
    super(`etcd ${endpoint}: ${what} failed: ${why}`, { hint: 'check the etcd member log; run `etcdctl endpoint health` against it' });
  }
}

/** The flannel network config differs on a cluster where flanneld already holds subnet leases. */
export class NetworkConfigChangeRefusedError extends KubewrightError {
  constructor(key: string, changes: string[], leases: number) {
    super(`etcd: refusing to change ${key} (${changes.join(', ')}) while ${leases} flannel subnet lease${leases === 1 ? '' : 's'} exist`, {
      hint: 'changing the pod network of a live cluster breaks running pods; pass --force to write it anyway, then restart flanneld and every pod on all nodes',
    });
  }
}

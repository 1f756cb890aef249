// Turns a low-level failure (a Node socket/TLS error, or a gRPC error from the etcd3 client,
// which carries the socket error in its message) into the error that names the fix.
import { EtcdClientCertificateError, EtcdServerCertificateError } from './etcd-errors.ts';
import { describeClientCertificate, type EtcdTls } from './etcd-tls.ts';

export type EtcdFailure =
  /** the member could not be reached: try the next one */
  | { kind: 'unreachable'; reason: string }
  /** the member answered, but TLS failed: the same will happen on every member */
  | { kind: 'tls'; error: EtcdServerCertificateError | EtcdClientCertificateError };

// OpenSSL alerts the server sends when it rejects our client certificate (Go's etcd sends
// "bad certificate" for both a missing and a foreign certificate; TLS 1.3 peers may send the others)
const clientRejected = /alert bad certificate|alert certificate required|alert unknown ca|alert certificate unknown|alert handshake failure|ALERT_BAD_CERTIFICATE|ALERT_CERTIFICATE_REQUIRED|ALERT_UNKNOWN_CA/i;
// Node's codes and messages when etcd's serving certificate does not verify
const serverUntrusted =
  /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID|unable to verify the first certificate|self[- ]signed certificate|certificate has expired|unable to get (local )?issuer certificate|does not match certificate's altnames|Hostname\/IP does not match/i;

export function classifyEtcdFailure(endpoint: string, err: unknown, tls: EtcdTls): EtcdFailure {
  const e = err as { code?: unknown; message?: unknown };
  const text = `${typeof e.code === 'string' ? e.code : ''} ${typeof e.message === 'string' ? e.message : String(err)}`;
  if (clientRejected.test(text)) {
    return { kind: 'tls', error: new EtcdClientCertificateError(endpoint, describeClientCertificate(tls)) };
  }
  const m = serverUntrusted.exec(text);
  if (m) return { kind: 'tls', error: new EtcdServerCertificateError(endpoint, m[0]) };
  return { kind: 'unreachable', reason: `${endpoint}: ${shortReason(text)}` };
}

function shortReason(text: string): string {
  const code = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)\b/.exec(text);
  if (code) {
    const names: Record<string, string> = {
      ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ETIMEDOUT: 'timed out', EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable', ENOTFOUND: 'name not found', EAI_AGAIN: 'name lookup failed', EPIPE: 'connection closed',
    };
    return names[code[1] ?? ''] ?? code[1] ?? text;
  }
  if (/timeout|deadline/i.test(text)) return 'timed out';
  const first = text.trim().split('\n')[0] ?? '';
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

// A client-node KubeConfig for the admin certificate, and raw GETs (readyz) with the same TLS settings.
import { KubeConfig } from '@kubernetes/client-node';
import { request } from 'node:https';
import type { TlsCredential } from '../spec/credentials.ts';

export function adminKubeConfig(server: string, caPem: string, admin: TlsCredential): KubeConfig {
  const kc = new KubeConfig();
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'kubewright', server, caData: b64(caPem), skipTLSVerify: false }],
    users: [{ name: 'admin', certData: b64(admin.certPem), keyData: b64(admin.keyPem) }],
    contexts: [{ name: 'admin@kubewright', cluster: 'kubewright', user: 'admin' }],
    currentContext: 'admin@kubewright',
  });
  return kc;
}

/** GET a non-resource path (e.g. /readyz?verbose) with the kubeconfig's server and credentials. */
export async function getRaw(kc: KubeConfig, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const url = new URL(path, server);
  const opts: import('node:https').RequestOptions = { method: 'GET', hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, timeout: timeoutMs };
  await kc.applyToHTTPSOptions(opts);
  return httpsGet(opts, timeoutMs);
}

/** One HTTPS request with these options: its status and body, or the network error (`no answer within …` at the timeout). */
export function httpsGet(opts: import('node:https').RequestOptions, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A short reason for a failed API call: HTTP status and message, or the network error. */
export function describeApiError(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  if (typeof err.code === 'number') {
    let message = '';
    try {
      const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string } | undefined);
      message = body?.message ?? '';
    } catch {
      message = String(err.body ?? '');
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message ?? String(e)} (${cause})` : (err.message ?? String(e));
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT']);

/** The network error code when nothing answered at the API server's address (refused, DNS, no route), else undefined. */
export function unreachableCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c && typeof c === 'object' && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && unreachableCodes.has(code)) return code;
  }
  return undefined;
}

export function isNotFound(e: unknown): boolean {
  return (e as { code?: number }).code === 404;
}

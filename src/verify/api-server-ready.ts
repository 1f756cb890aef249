// Waiting for kube-apiserver after `up` has started it: an anonymous GET of its health path
// (/readyz from 1.16, the post's 1.8 answers /healthz) over TLS verified by the cluster CA, on
// each master and through the endpoint, until every one answers 200 or the deadline passes.
// Anonymous on purpose: what a load balancer's health check and a fresh kubelet see, and it needs
// no credential that might not be accepted yet.
import { KubewrightError } from '../errors.ts';
import { httpsGet } from './kube-client.ts';

export interface ApiServerTarget {
  /** how it is named in messages: the master's name, or `endpoint` */
  name: string;
  /** https://host:port */
  url: string;
}

export interface ApiReadyOptions {
  caPem: string;
  /** `/readyz` or `/healthz` */
  path: string;
  deadlineMs?: number | undefined;
  intervalMs?: number | undefined;
  /** each GET's own timeout (default 5 s) */
  requestTimeoutMs?: number | undefined;
  /** told once per target when it first answers 200 */
  onReady?: ((t: ApiServerTarget, afterMs: number) => void) | undefined;
}

export class ApiServerNotReadyError extends KubewrightError {
  constructor(readonly target: ApiServerTarget, waitedMs: number, readonly lastAnswer: string) {
    super(`${target.name}: ${target.url} did not answer ready within ${Math.round(waitedMs / 1000)} s; its last answer: ${lastAnswer}`, {
      host: target.name,
      hint: `see \`journalctl -u kube-apiserver\` on ${target.name === 'endpoint' ? 'the masters' : target.name}; fix the cause and re-run \`kubewright up\` (finished steps are no-ops)`,
    });
  }
}

/** One anonymous GET: the status and the start of the body, or the network error as the answer. */
export function probeApiServer(url: string, path: string, caPem: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const u = new URL(path, url);
  return httpsGet({ method: 'GET', hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || 443, path: `${u.pathname}${u.search}`, ca: caPem }, timeoutMs);
}

function describeAnswer(r: { status: number; body: string }): string {
  const body = r.body.trim().replace(/\s+/g, ' ');
  return `HTTP ${r.status}${body ? `: ${body.length > 200 ? `${body.slice(0, 200)}…` : body}` : ''}`;
}

/** Waits until every target answers 200; the first still failing at the deadline is the error, with its last answer. */
export async function waitForApiServersReady(targets: readonly ApiServerTarget[], opts: ApiReadyOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + (opts.deadlineMs ?? 180_000);
  const last = new Map<string, string>(targets.map((t) => [t.url, 'not asked yet']));
  let pending = [...targets];
  for (;;) {
    const answers = await Promise.all(pending.map(async (t) => {
      try {
        const r = await probeApiServer(t.url, opts.path, opts.caPem, opts.requestTimeoutMs);
        last.set(t.url, describeAnswer(r));
        return r.status === 200;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        last.set(t.url, `${e instanceof Error ? e.message : String(e)}${typeof code === 'string' && !(e instanceof Error && e.message.includes(code)) ? ` (${code})` : ''}`);
        return false;
      }
    }));
    for (const [i, ok] of answers.entries()) if (ok) opts.onReady?.(pending[i]!, Date.now() - started);
    pending = pending.filter((_, i) => !answers[i]);
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw new ApiServerNotReadyError(pending[0]!, Date.now() - started, last.get(pending[0]!.url) ?? '');
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}

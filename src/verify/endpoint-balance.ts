// Does the API endpoint balance across the masters? A TCP balancer passes TLS through, and every
// master serves the same certificate, so neither the answer nor the certificate says which master
// answered. The TLS session does: each kube-apiserver process issues session tickets with keys of
// its own (random at start), so a session that came through the endpoint resumes only on the
// master that made it. Connections through the endpoint are opened at once (a least-connections
// balancer spreads them too), then each session is offered to every master directly.
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface BalanceTarget {
  name: string;
  host: string;
  port: number;
}

export interface EndpointBalance {
  /** false with fewer than two masters (nothing to balance) or when no session could be traced */
  checked: boolean;
  ok: boolean;
  /** connections through the endpoint that each master resumed (only masters that took any) */
  reached: Record<string, number>;
  /** connections no master resumed */
  untraced: number;
  detail: string;
}

interface TlsTarget { host: string; port: number; servername: string; ca: string }

/** One TLS 1.3 handshake; resolves with its session ticket (undefined when the server sent none) and whether it resumed `session`. */
function handshake(t: TlsTarget, session: Buffer | undefined, timeoutMs: number): Promise<{ ticket: Buffer | undefined; resumed: boolean }> {
  return new Promise((resolve, reject) => {
    // SNI carries names only (RFC 6066): without one, Node verifies the certificate against `host` (an IP SAN)
    const opts: ConnectionOptions = { host: t.host, port: t.port, ...(isIP(t.servername) ? {} : { servername: t.servername }), ca: t.ca, minVersion: 'TLSv1.3', ...(session ? { session } : {}) };
    let ticket: Buffer | undefined;
    const timer = setTimeout(() => finish(new Error(`no TLS answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      const resumed = socket.isSessionReused();
      socket.destroy();
      if (err) reject(err);
      else resolve({ ticket, resumed });
    };
    const socket: TLSSocket = connect(opts, () => {
      if (session) {
        finish();
        return;
      }
      // TLS 1.3 tickets arrive after the handshake; a server may send none
      setTimeout(() => finish(), 300);
    });
    socket.on('session', (s: Buffer) => {
      ticket = s;
      if (!session) finish();
    });
    socket.on('error', (e) => finish(e));
  });
}

/**
 * Opens `connections` TLS sessions through the endpoint at once and finds, for each, the master
 * that resumes it. ok when at least two masters took connections; with one master it is not checked.
 */
export async function checkEndpointBalance(endpoint: URL, masters: readonly BalanceTarget[], caPem: string, opts: { connections?: number; timeoutMs?: number } = {}): Promise<EndpointBalance> {
  const reached: Record<string, number> = {};
  if (masters.length < 2) return { checked: false, ok: true, reached, untraced: 0, detail: `n/a: ${masters.length} master(s), nothing to balance` };
  const timeoutMs = opts.timeoutMs ?? 5000;
  const n = opts.connections ?? masters.length * 3;
  const servername = endpoint.hostname;
  const port = Number(endpoint.port || 443);
  const through = await Promise.allSettled(Array.from({ length: n }, () => handshake({ host: endpoint.hostname, port, servername, ca: caPem }, undefined, timeoutMs)));
  const tickets = through.flatMap((r) => (r.status === 'fulfilled' && r.value.ticket ? [r.value.ticket] : []));
  const failed = through.filter((r) => r.status === 'rejected');
  if (tickets.length === 0) {
    const why = failed[0]?.status === 'rejected' ? String((failed[0].reason as Error).message) : 'the servers sent no TLS session ticket';
    return { checked: false, ok: true, reached, untraced: n, detail: `not determined: ${why}` };
  }
  let untraced = n - tickets.length;
  for (const ticket of tickets) {
    let owner: string | undefined;
    for (const m of masters) {
      const r = await handshake({ host: m.host, port: m.port, servername, ca: caPem }, ticket, timeoutMs).catch(() => undefined);
      if (r?.resumed) {
        owner = m.name;
        break;
      }
    }
    if (owner) reached[owner] = (reached[owner] ?? 0) + 1;
    else untraced += 1;
  }
  const names = Object.keys(reached);
  const spread = names.map((k) => `${k} ${reached[k] ?? 0}`).join(', ');
  if (names.length === 0) return { checked: false, ok: true, reached, untraced, detail: `not determined: no master resumed a session made through ${endpoint.host} (are the masters reachable directly on ${masters[0]?.port ?? ''}?)` };
  if (names.length === 1) {
    const idle = masters.map((m) => m.name).filter((x) => !names.includes(x));
    return { checked: true, ok: false, reached, untraced, detail: `all ${reached[names[0]!] ?? 0} traced connection(s) through ${endpoint.host} reached ${names[0]!}; none reached ${idle.join(', ')} (is the balancer's health check failing them?)` };
  }
  return { checked: true, ok: true, reached, untraced, detail: `${n} connections through ${endpoint.host} reached ${names.length} of ${masters.length} masters (${spread}${untraced ? `; ${untraced} untraced` : ''})` };
}

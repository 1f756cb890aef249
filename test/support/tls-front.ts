// An HTTPS front on 127.0.0.1 that forwards every request unchanged to a plain-HTTP upstream on
// loopback (Prism in front of the DigitalOcean simulator): the nodes' etcd-lookup sends its token
// only over https, as it would to api.digitalocean.com. Its certificate comes from a CA the test
// makes; curl trusts it through CURL_CA_BUNDLE.
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsFront {
  url: string;
  stop(): Promise<void>;
}

export async function startTlsFront(upstream: string, tls: { certPem: string; keyPem: string }): Promise<TlsFront> {
  const target = new URL(upstream);
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`tls front: ${e.message}`);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A real HTTP server on loopback serving a mirror directory, logging every request path, with
// optional per-path behaviour (fail N times, stall, oversized body) for the download tests.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface HttpMirror {
  url: string;
  /** request paths in order */
  requests: string[];
  /** per-path behaviour: return true when handled */
  handle?: ((path: string, res: ServerResponse, n: number) => boolean) | undefined;
  close(): Promise<void>;
}

export async function startHttpMirror(dir: string): Promise<HttpMirror> {
  const counts = new Map<string, number>();
  const mirror: HttpMirror = {
    url: '',
    requests: [],
    handle: undefined,
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      mirror.requests.push(path);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      if (mirror.handle?.(path, res, n)) return;
      const file = join(dir, normalize(path).replace(/^(\.\.(\/|$))+/, ''));
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mirror.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return mirror;
}

// A loopback TCP proxy in front of an sshd that kills the connection after a chosen number of
// bytes (both directions counted): the fault the apply engine must survive.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CuttingProxy {
  port: number;
  /** bytes after which the next connection is cut; Infinity = never */
  cutAfter: number;
  /** bytes the last connection carried */
  lastBytes: number;
  /** whether the last connection was cut */
  lastCut: boolean;
  close(): Promise<void>;
}

export async function startCuttingProxy(targetPort: number, listenPort = 0): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  const proxy: CuttingProxy = { port: 0, cutAfter: Infinity, lastBytes: 0, lastCut: false, close: async () => undefined };
  const server: Server = createServer((client) => {
    const limit = proxy.cutAfter;
    let bytes = 0;
    proxy.lastBytes = 0;
    proxy.lastCut = false;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const cut = (): void => {
      proxy.lastCut = true;
      client.destroy();
      upstream.destroy();
    };
    const pump = (from: Socket, to: Socket): void => {
      from.on('data', (d: Buffer) => {
        if (proxy.lastCut) return;
        const room = limit - bytes;
        if (d.length >= room) {
          bytes += Math.max(0, room);
          proxy.lastBytes = bytes;
          if (room > 0) to.write(d.subarray(0, room));
          cut();
          return;
        }
        bytes += d.length;
        proxy.lastBytes = bytes;
        to.write(d);
      });
      from.on('close', () => to.destroy());
      from.on('error', () => to.destroy());
    };
    pump(client, upstream);
    pump(upstream, client);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const a = server.address();
  proxy.port = typeof a === 'object' && a ? a.port : 0;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

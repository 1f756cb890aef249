// A host that accepts TCP and never says anything (test support): an SSH host that hangs before
// its banner, e.g. a wedged sshd or a middlebox that swallows the connection. kubewright's
// connect must give up after its timeout. Close it with stop().
import { createServer, type Socket } from 'node:net';

export interface SilentHost {
  port: number;
  stop(): Promise<void>;
}

export async function startSilentHost(): Promise<SilentHost> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// A port nothing listens on yet (test support). sshd and etcd can't report a port-0 bind, so a
// test picks one first; the small race until the server binds it is accepted (REAL-INFRA.md).
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

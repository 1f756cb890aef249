// Whether bytes from a source can be trusted without a digest from elsewhere. Plain http from a
// non-loopback host can be rewritten in transit, checksum files included, so it is used only for
// artifacts whose sha256 the lockfile or a pin already fixes. Loopback stays allowed (tests, a
// mirror on the same machine).
import { isIP } from 'node:net';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** True for an http:// URL whose host is not loopback: nothing read from it verifies itself. */
export function isInsecureHttp(source: string): boolean {
  if (!/^http:\/\//i.test(source)) return false;
  try {
    return !isLoopbackHost(new URL(source).hostname);
  } catch {
    return true;
  }
}

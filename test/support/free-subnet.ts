// A /24 for a test's own bridge that no interface on this machine uses yet (test support).
// Each test file passes its own range, so files running in parallel don't pick the same one.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/** `10.<second>.<x>.0/24` with x in [from, from + span). */
export async function freeSubnet(second: number, from: number, span: number): Promise<string> {
  const { stdout } = await promisify(execFile)('ip', ['-o', '-4', 'addr']);
  for (let i = 0; i < 50; i++) {
    const x = from + ((randomBytes(1)[0] ?? 0) % span);
    if (!stdout.includes(` 10.${second}.${x}.`)) return `10.${second}.${x}.0/24`;
  }
  throw new Error(`no free 10.${second}.x.0/24 subnet for the test`);
}

// The temp file an atomic write goes through: hidden, in the target's own directory (so the
// rename stays on one filesystem), recognisable so a later run can clean leftovers.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';

export const tempMarker = '.kw-tmp-';

export function tempPathFor(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}${tempMarker}${randomBytes(6).toString('hex')}`);
}

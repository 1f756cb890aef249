// kubewright's own state files (DigitalOcean droplets, lab machines) are read through a zod schema:
// a missing file is "no state", a corrupt or foreign one is an error that names the file and how
// to recover — never silently an empty state, which would make kubewright forget what it created.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';

export class CorruptStateError extends InputError {}

/** The parsed state, or undefined when the file does not exist. */
export async function readStateFile<T extends z.ZodType>(path: string, schema: T, recovery: string): Promise<z.infer<T> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CorruptStateError(`state file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { hint: recovery });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CorruptStateError(`state file ${path}: not JSON (truncated or edited?)`, { hint: recovery });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(document)'}: ${issue.message}` : 'unexpected shape';
    throw new CorruptStateError(`state file ${path}: ${where}`, { hint: recovery });
  }
  return parsed.data;
}

// Every time flag takes a duration with a unit, as kubectl and terraform do: `--wait 2m`,
// `--timeout 30s`, `--poll-interval 500ms`. `0` needs no unit (where zero is allowed).
import { InputError } from '../errors.ts';
import { parseDuration } from '../pki/duration.ts';

/** Milliseconds of a duration flag's value; exit 2 naming the flag when it is not a duration. */
export function durationFlag(flag: string, text: string, opts: { allowZero?: boolean; example?: string } = {}): number {
  const example = opts.example ?? '30s, 5m or 1m30s';
  if (/^0+(\.0+)?(ms|s|m|h|d)?$/.test(text.trim())) {
    if (opts.allowZero) return 0;
    throw new InputError(`${flag}: must be longer than 0 (got ${JSON.stringify(text)})`, { hint: `e.g. ${flag} ${example.split(',')[0]}` });
  }
  const ms = parseDuration(text);
  if (ms === undefined) {
    const bare = /^\d+(\.\d+)?$/.test(text.trim());
    throw new InputError(`${flag}: not a duration (got ${text})`, {
      hint: bare ? `give it a unit, e.g. ${text.trim()}s` : `write it like ${example}`,
    });
  }
  return ms;
}

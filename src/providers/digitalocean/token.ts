// Where the DigitalOcean token comes from: --token-file or DIGITALOCEAN_ACCESS_TOKEN (doctl's
// variable), never the spec. Errors name the source, never the value.
import { readFile } from 'node:fs/promises';
import { isInsecureHttp } from '../../artifacts/source-trust.ts';
import { InputError } from '../../errors.ts';
import { DIGITALOCEAN_API_URL_DEFAULT } from '../../spec/digitalocean.ts';

export const tokenEnvVar = 'DIGITALOCEAN_ACCESS_TOKEN';
export const apiUrlEnvVar = 'DIGITALOCEAN_API_URL';

export async function resolveToken(opts: { tokenFile?: string | undefined; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.tokenFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new InputError(`--token-file ${opts.tokenFile}: cannot read the DigitalOcean token (${code})`, {
        hint: 'point --token-file at a file holding only the token, or set DIGITALOCEAN_ACCESS_TOKEN',
      });
    }
    const token = text.trim();
    if (token === '' || /\s/.test(token)) {
      throw new InputError(`--token-file ${opts.tokenFile}: must hold exactly one token on one line`, {
        hint: 'write only the token into the file (e.g. `umask 077; cat > token`)',
      });
    }
    return token;
  }
  const token = env[tokenEnvVar]?.trim();
  if (!token) {
    throw new InputError('digitalocean: no API token', {
      hint: `export ${tokenEnvVar}=... or pass --token-file FILE (the token never goes into the spec)`,
    });
  }
  return token;
}

/** The API base URL: an explicit option, then DIGITALOCEAN_API_URL, then the public API. */
export function resolveApiUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = option ?? env[apiUrlEnvVar] ?? DIGITALOCEAN_API_URL_DEFAULT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`digitalocean API URL ${JSON.stringify(raw)}: not a URL`, { hint: `set ${apiUrlEnvVar} or --api-url to e.g. ${DIGITALOCEAN_API_URL_DEFAULT}` });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(`digitalocean API URL ${JSON.stringify(raw)}: must be http(s)`, { hint: `e.g. ${DIGITALOCEAN_API_URL_DEFAULT}` });
  }
  // the API token travels in every request's Authorization header: plain http only on loopback (tests, local simulators)
  if (isInsecureHttp(raw)) {
    throw new InputError(`digitalocean API URL ${JSON.stringify(raw)}: plain http off loopback would send the API token unencrypted`, {
      hint: `use https (e.g. ${DIGITALOCEAN_API_URL_DEFAULT}); http is accepted only for 127.0.0.1, ::1 and localhost`,
    });
  }
  return raw.replace(/\/+$/, '');
}

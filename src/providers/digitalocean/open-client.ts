// A client from the CLI's view: token from --token-file or DIGITALOCEAN_ACCESS_TOKEN, base URL
// from --api-url or DIGITALOCEAN_API_URL.
import { DigitalOceanClient, type DigitalOceanClientOptions } from './api-client.ts';
import { resolveApiUrl, resolveToken } from './token.ts';

export async function openDigitalOceanClient(
  opts: { tokenFile?: string | undefined; apiUrl?: string | undefined; env?: NodeJS.ProcessEnv } & Omit<DigitalOceanClientOptions, 'token' | 'baseUrl'>,
): Promise<DigitalOceanClient> {
  const env = opts.env ?? process.env;
  const { tokenFile, apiUrl, env: _env, ...rest } = opts;
  const token = await resolveToken({ tokenFile, env });
  return new DigitalOceanClient({ ...rest, token, baseUrl: resolveApiUrl(apiUrl, env) });
}

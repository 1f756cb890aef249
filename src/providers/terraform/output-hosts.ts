// Hosts from a saved `terraform output -json` of kubewright's main.tf.json: names, public and
// private IPv4 and the SSH host keys Terraform generated, zipped by index.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../../errors.ts';
import { terraformOutputNames } from '../../spec/terraform-outputs.ts';
import { parseIPv4 } from '../../spec/ipv4.ts';
import { hostNamePattern } from '../../spec/schema.ts';

const output = <T extends z.ZodType>(value: T) => z.object({ value });
// names become folders under `render --out` and pki.dir and node names in units; addresses land in units
const hostName = z.string().regex(hostNamePattern, { error: 'must be a host name: letters, digits, "." and "-"' });
const ipv4 = z.string().refine((s) => parseIPv4(s) !== undefined, { error: 'must be an IPv4 address' });
// Terraform writes "" for a droplet without a private address
const optionalIpv4 = z.union([z.literal(''), ipv4]);
const hostKey = z.union([z.literal(''), z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/, { error: 'must be an OpenSSH public key line "type base64"' })]);
const outputSchema = z.object({
  [terraformOutputNames.names]: output(z.array(hostName)),
  [terraformOutputNames.publicIPv4]: output(z.array(ipv4)),
  [terraformOutputNames.privateIPv4]: output(z.array(optionalIpv4)).optional(),
  [terraformOutputNames.hostKeys]: output(z.array(hostKey)).optional(),
});

export interface TerraformHost {
  name: string;
  publicAddress: string;
  privateAddress: string | undefined;
  /** `ssh-ed25519 AAAA...`, when the output has host keys */
  hostKey: string | undefined;
}

export function parseTerraformOutput(text: string, file: string): TerraformHost[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InputError(`${file}: not JSON`, { hint: 'save it with `terraform output -json > FILE`' });
  }
  const parsed = outputSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const got = issue ? valueAt(json, issue.path) : undefined;
    const shown = typeof got === 'string' ? ` (got ${JSON.stringify(got.length > 60 ? `${got.slice(0, 57)}...` : got)})` : '';
    throw new InputError(`${file}: ${issue ? `${issue.path.join('.') || '(document)'}: ${issue.message}${shown}` : 'unexpected shape'}`, {
      hint: `apply kubewright's main.tf.json and save \`terraform output -json\`; it needs outputs ${terraformOutputNames.names} and ${terraformOutputNames.publicIPv4}`,
    });
  }
  const o = parsed.data as Record<string, { value: string[] } | undefined>;
  const names = o[terraformOutputNames.names]?.value ?? [];
  const pub = o[terraformOutputNames.publicIPv4]?.value ?? [];
  const priv = o[terraformOutputNames.privateIPv4]?.value;
  const keys = o[terraformOutputNames.hostKeys]?.value;
  if (pub.length !== names.length || (priv && priv.length !== names.length) || (keys && keys.length !== names.length)) {
    throw new InputError(`${file}: the outputs list different numbers of hosts`, { hint: 'run `terraform apply` to completion, then save `terraform output -json` again' });
  }
  return names.map((name, i) => ({
    name,
    publicAddress: pub[i] ?? '',
    privateAddress: priv?.[i] || undefined,
    hostKey: keys?.[i] || undefined,
  }));
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let cur = doc;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

export async function readTerraformOutput(file: string): Promise<TerraformHost[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`provider.terraform.outputFile ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'run `terraform output -json > FILE` in the directory of main.tf.json',
    });
  }
  return parseTerraformOutput(text, file);
}

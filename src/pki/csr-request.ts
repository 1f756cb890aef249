// cfssl's CSR JSON (`{CN, hosts, key: {algo, size}, names: [{C, ST, L, O, OU}]}`), accepted as
// cfssl accepts it, and the subject / SAN lists it stands for.
import { isIP } from 'node:net';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { keySpecProblem, type KeySpec } from './private-key.ts';

export interface CsrName {
  C?: string | undefined;
  ST?: string | undefined;
  L?: string | undefined;
  O?: string | undefined;
  OU?: string | undefined;
}

export interface CsrRequest {
  CN: string;
  /** DNS names, IP addresses, emails or URIs, as cfssl sorts them into SANs */
  hosts?: string[] | undefined;
  key?: KeySpec | undefined;
  names?: CsrName[] | undefined;
}

/** cfssl's default when a CSR JSON has no `key` */
export const defaultKeySpec: KeySpec = { algo: 'ecdsa', size: 256 };

const nameSchema = z.looseObject({
  C: z.string().optional(),
  ST: z.string().optional(),
  L: z.string().optional(),
  O: z.string().optional(),
  OU: z.string().optional(),
});

const csrSchema = z.looseObject({
  CN: z.string().default(''),
  hosts: z.array(z.string().min(1)).optional(),
  key: z.looseObject({ algo: z.unknown(), size: z.unknown() }).optional(),
  names: z.array(nameSchema).optional(),
});

/** Parses cfssl CSR JSON; InputError naming the file and the field for anything kubewright can't issue. */
export function parseCsrRequest(text: string, file: string): CsrRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { hint: 'write the CSR as cfssl does: {"CN": "...", "hosts": [...], "key": {"algo": "ecdsa", "size": 256}, "names": [{...}]}' });
  }
  const parsed = csrSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const path = i ? i.path.map(String).join('.') : '';
    throw new InputError(`${file}: ${path || 'CSR'}: ${i?.message ?? 'invalid'}`, { hint: 'see cfssl\'s CSR JSON: CN, hosts[], key{algo,size}, names[{C,ST,L,O,OU}]' });
  }
  const csr = parsed.data;
  let key: KeySpec | undefined;
  if (csr.key) {
    const problem = keySpecProblem(csr.key);
    if (problem) throw new InputError(`${file}: key: ${problem}`, { hint: 'use "key": {"algo": "ecdsa", "size": 256} or {"algo": "rsa", "size": 2048}' });
    key = { algo: csr.key.algo as KeySpec['algo'], size: csr.key.size as number };
  }
  if (!csr.CN && (csr.hosts ?? []).length === 0) {
    throw new InputError(`${file}: CN: must not be empty when there are no hosts`, { hint: 'set "CN", e.g. "kubelet"' });
  }
  return {
    CN: csr.CN,
    hosts: csr.hosts,
    key,
    names: csr.names?.map((n) => ({ C: n.C, ST: n.ST, L: n.L, O: n.O, OU: n.OU })),
  };
}

export type SanType = 'dns' | 'ip' | 'email' | 'url';
export interface San {
  type: SanType;
  value: string;
}

/** SANs in the order Go's x509 writes them (DNS, email, IP, URI), each host sorted as cfssl sorts it. */
export function sansOf(hosts: readonly string[] | undefined): San[] {
  const dns: San[] = [];
  const email: San[] = [];
  const ip: San[] = [];
  const url: San[] = [];
  for (const h of hosts ?? []) {
    if (isIP(h)) ip.push({ type: 'ip', value: h });
    else if (/^[^@\s]+@[^@\s]+$/.test(h)) email.push({ type: 'email', value: h });
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(h)) url.push({ type: 'url', value: h });
    else dns.push({ type: 'dns', value: h });
  }
  const seen = new Set<string>();
  return [...dns, ...email, ...ip, ...url].filter((s) => {
    const k = sanKey(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `DNS:x`, `IP:y` as openssl prints them; the key SANs are compared by. */
export function sanKey(s: San): string {
  const label = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI' }[s.type];
  return `${label}:${s.type === 'dns' ? s.value.toLowerCase() : s.value}`;
}

/** The subject as @peculiar/x509 JSON, attributes in Go's pkix order (C, ST, L, O, OU, CN) so it reads like cfssl's. */
export function subjectOf(req: Pick<CsrRequest, 'CN' | 'names'>): Record<string, string[]>[] {
  const attrs: Record<string, string[]>[] = [];
  for (const attr of ['C', 'ST', 'L', 'O', 'OU'] as const) {
    const values = (req.names ?? []).map((n) => n[attr]).filter((v): v is string => v !== undefined && v !== '');
    if (values.length > 0) attrs.push({ [attr]: values });
  }
  if (req.CN) attrs.push({ CN: [req.CN] });
  return attrs;
}

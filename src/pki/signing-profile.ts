// cfssl's ca-config.json: signing profiles (usages + expiry). The default is the `kubernetes`
// profile most cfssl tutorials (and the post's master setup) use.
import { InputError } from '../errors.ts';
import { parseDuration } from './duration.ts';

export interface SigningProfile {
  /** cfssl usage names: "signing", "key encipherment", "server auth", "client auth", ... */
  usages: string[];
  /** validity of issued certificates in milliseconds (cfssl `expiry`, e.g. "8760h") */
  expiryMs: number;
}

export interface CaConfig {
  default: SigningProfile;
  profiles: Record<string, SigningProfile>;
}

export const defaultProfileName = 'kubernetes';

export const kubernetesProfile: SigningProfile = {
  usages: ['signing', 'key encipherment', 'server auth', 'client auth'],
  expiryMs: 8760 * 3_600_000,
};

export const defaultCaConfig: CaConfig = { default: kubernetesProfile, profiles: { kubernetes: kubernetesProfile } };

/** The ca-config.json kubewright writes when none is given (cfssl's usual config). */
export const defaultCaConfigJson = `${JSON.stringify(
  {
    signing: {
      default: { expiry: '8760h' },
      profiles: { kubernetes: { usages: kubernetesProfile.usages, expiry: '8760h' } },
    },
  },
  null,
  2,
)}\n`;

// cfssl's usage names → X.509 key usage bits (RFC 5280 order) and extended key usage OIDs
export const keyUsageBits: Record<string, number> = {
  signing: 1,
  'digital signature': 1,
  'content commitment': 2,
  'key encipherment': 4,
  'data encipherment': 8,
  'key agreement': 16,
  'cert sign': 32,
  'crl sign': 64,
  'encipher only': 128,
  'decipher only': 256,
};

export const extKeyUsageOids: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
};

/** Key usage bits and EKU OIDs (sorted) a profile asks for. */
export function usagesOf(profile: SigningProfile): { keyUsage: number; extKeyUsage: string[] } {
  let keyUsage = 0;
  const eku = new Set<string>();
  for (const u of profile.usages) {
    const bit = keyUsageBits[u];
    const oid = extKeyUsageOids[u];
    if (bit !== undefined) keyUsage |= bit;
    if (oid !== undefined) eku.add(oid);
  }
  return { keyUsage, extKeyUsage: [...eku] };
}

function profileFrom(raw: unknown, where: string, file: string, fallback: SigningProfile | undefined): SigningProfile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file}: ${where}: must be an object`, { hint: 'see cfssl\'s ca-config.json: {"signing": {"profiles": {"kubernetes": {"usages": [...], "expiry": "8760h"}}}}' });
  }
  const r = raw as Record<string, unknown>;
  let expiryMs = fallback?.expiryMs;
  if (r['expiry'] !== undefined) {
    expiryMs = typeof r['expiry'] === 'string' ? parseDuration(r['expiry']) : undefined;
    if (expiryMs === undefined) throw new InputError(`${file}: ${where}.expiry: not a duration (got ${JSON.stringify(r['expiry'])})`, { hint: 'write it as cfssl does, e.g. "8760h"' });
  }
  let usages = fallback?.usages;
  if (r['usages'] !== undefined) {
    if (!Array.isArray(r['usages']) || !r['usages'].every((u) => typeof u === 'string')) {
      throw new InputError(`${file}: ${where}.usages: must be a list of strings`, { hint: 'e.g. ["signing", "key encipherment", "server auth", "client auth"]' });
    }
    usages = r['usages'] as string[];
    const unknown = usages.find((u) => keyUsageBits[u] === undefined && extKeyUsageOids[u] === undefined);
    if (unknown !== undefined) {
      throw new InputError(`${file}: ${where}.usages: unknown usage ${JSON.stringify(unknown)}`, { hint: `use cfssl usage names: ${[...Object.keys(keyUsageBits), ...Object.keys(extKeyUsageOids)].join(', ')}` });
    }
  }
  return { usages: usages ?? kubernetesProfile.usages, expiryMs: expiryMs ?? kubernetesProfile.expiryMs };
}

/** Parses cfssl's ca-config.json; unknown cfssl fields (auth keys, ca_constraint, ...) are ignored. */
export function parseCaConfig(text: string, file: string): CaConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { hint: 'fix the JSON or leave --ca-config out for the default kubernetes profile' });
  }
  const signing = (raw as { signing?: unknown } | null)?.signing;
  if (signing === null || typeof signing !== 'object') {
    throw new InputError(`${file}: signing: is required`, { hint: 'a cfssl ca-config.json has {"signing": {"default": {...}, "profiles": {...}}}' });
  }
  const s = signing as { default?: unknown; profiles?: unknown };
  const def = s.default === undefined ? kubernetesProfile : profileFrom(s.default, 'signing.default', file, undefined);
  const profiles: Record<string, SigningProfile> = {};
  if (s.profiles !== undefined) {
    if (s.profiles === null || typeof s.profiles !== 'object') throw new InputError(`${file}: signing.profiles: must be an object`, { hint: 'map profile names to {usages, expiry}' });
    for (const [name, p] of Object.entries(s.profiles)) profiles[name] = profileFrom(p, `signing.profiles.${name}`, file, def);
  }
  return { default: def, profiles };
}

/** A named profile, or the config's default when it has no such profile (as cfssl does). */
export function profileNamed(config: CaConfig, name: string): SigningProfile {
  return config.profiles[name] ?? config.default;
}

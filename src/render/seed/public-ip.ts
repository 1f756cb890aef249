// public_ip: the post's helper unit that finds the droplet's public IPv4 (DigitalOcean metadata
// service) and writes `PUBLIC_IP=<ip>` to /etc/kubelet/public_ip for kubelet's --hostname-override.
import { parseIPv4 } from '../../spec/ipv4.ts';
import { renderServiceUnit } from '../unit-file.ts';
import { seedPaths } from './paths.ts';

export const PUBLIC_IP_METADATA_URL = 'http://169.254.169.254/metadata/v1/interfaces/public/0/ipv4/address';

/**
 * POSIX sh. Retries (the metadata service can lag behind boot), accepts only a dotted quad, and
 * writes through a temp file + rename so kubelet never reads a half-written file. It reads
 * PUBLIC_IP_ATTEMPTS (0 = until it answers) and PUBLIC_IP_RETRY_SECONDS from its environment (the
 * unit sets neither; an operator may, in a drop-in); the URL and the output path are fixed.
 * `knownAddress` (an IPv4 the provider already knows, e.g. a static host's) is written as is: such
 * hosts have no metadata service.
 */
export function renderPublicIpScript(knownAddress?: string): string {
  const known = knownAddress !== undefined && parseIPv4(knownAddress) !== undefined ? knownAddress : '';
  return `#!/bin/sh
# Writes PUBLIC_IP=<this droplet's public IPv4> to ${seedPaths.publicIpEnv} (kubelet --hostname-override).
set -u
# the provider's address for this host; empty: ask DigitalOcean's metadata service
known='${known}'
url='${PUBLIC_IP_METADATA_URL}'
out='${seedPaths.publicIpEnv}'
# 0: keep trying until the metadata service answers (the unit has no Restart=, see below)
attempts="\${PUBLIC_IP_ATTEMPTS:-0}"
delay="\${PUBLIC_IP_RETRY_SECONDS:-2}"
i=0
while [ "$attempts" -eq 0 ] || [ "$i" -lt "$attempts" ]; do
  i=$((i + 1))
  if [ -n "$known" ]; then ip="$known"; else ip=$(curl -fsS --max-time 5 "$url" 2>/dev/null) || ip=""; fi
  if printf '%s' "$ip" | grep -Eq '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$'; then
    mkdir -p "$(dirname "$out")" || exit 1
    tmp="$out.tmp.$$"
    printf 'PUBLIC_IP=%s\\n' "$ip" >"$tmp" && mv -f "$tmp" "$out" && exit 0
    rm -f "$tmp"
    exit 1
  fi
  if [ "$attempts" -eq 0 ] || [ "$i" -lt "$attempts" ]; then sleep "$delay"; fi
done
echo "public_ip: no IPv4 address from $url after $attempts attempts" >&2
exit 1
`;
}

/**
 * A oneshot that stays active once the file is written, so kubelet (Requires=/After=) starts only
 * after it. The script retries by itself: systemd refuses Restart=always on oneshot units, and
 * before systemd 244 (Ubuntu 16.04, the post's image, has 229) any Restart= other than no.
 */
export function renderPublicIpUnit(): string {
  return renderServiceUnit({
    unit: [['Description', 'public_ip'], ['After', 'network-online.target'], ['Wants', 'network-online.target']],
    service: [
      ['Type', 'oneshot'],
      ['RemainAfterExit', 'yes'],
      ['ExecStart', seedPaths.publicIpScript],
      // the metadata service may take a while after boot: no start timeout
      ['TimeoutStartSec', '0'],
    ],
    restart: 'none',
  });
}

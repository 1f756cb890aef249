// etcd-lookup: the on-node script that asks the DigitalOcean API (read-only token) for droplets
// tagged as etcd members and writes ETCD_MEMBERS to /etc/flannel/etcd-members, and its unit.
// flanneld reads that file (EnvironmentFile=) and `Requires=`/`After=` the unit, as in the post.
//
// Decisions (docs/etcd-flannel.md explains them for users):
// - JSON is parsed with python3: every Ubuntu cloud image has it because cloud-init is written in
//   Python, while jq is not installed by default; sed/grep over JSON breaks when DigitalOcean
//   reorders keys. curl does HTTP.
// - The token goes to curl through `--config -` on stdin (printf is a shell builtin), never argv,
//   and is never echoed; pages are followed by number on the configured base URL, so the token
//   is only ever sent there (not to whatever host a links.pages.next URL names).
// - Retries live in the script (a bounded sleep between attempts, until ≥ 1 member is known):
//   systemd < 244 (Ubuntu 16.04 has 229, the post's image) refuses Restart= on Type=oneshot.
// - 1,000 nodes share one read-only token (250 requests/min): the script must not stampede.
//   A members file younger than ETCD_LOOKUP_REFRESH_SECONDS (default a day) is used as is, with
//   no API call, so reboots and restarts cost nothing; the API is asked on first start, then
//   rarely. Before asking, a node sleeps a random 0..ETCD_LOOKUP_JITTER_SECONDS, rendered from
//   workers.count so the fleet averages ~100 lookups a minute. A 429 waits for retry-after, or for
//   ratelimit-reset when ratelimit-remaining is 0, plus a random share of the jitter window; other
//   failures back off exponentially with equal jitter up to 5 minutes: no retry storm.
//   Randomness comes from /dev/urandom (od), not awk's srand(), which seeds from the clock second
//   and would give nodes booting in the same second the same delay.
//   A rejected token or a bad token file fails at once: retrying cannot fix those.
// - With static endpoints and no tag the same script just writes the static list, so flanneld's
//   Requires=/After=etcd-lookup.service is the same in every spec.
// - The token only ever travels over TLS: the script refuses an API URL that is not https:// and
//   curl runs with `--proto =https`, so not even a redirect could take it to plain HTTP. There is
//   no http override, not even for tests: they serve the API simulator over HTTPS and trust its
//   test CA through curl's CURL_CA_BUNDLE.
import { endpointForIp, formatEtcdMembersLine, normalizeEtcdEndpoint, sortEndpoints, ETCD_CLIENT_PORT } from '../spec/etcd-endpoint.ts';
import { InputError } from '../errors.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { RenderedFile, RenderedUnit } from './types.ts';
import { flannelEtcdPaths } from './flannel-etcd-paths.ts';
import { deriveUnitReads, type UnitSource } from './unit-reads.ts';
import { renderServiceUnit, SYSTEMD_DIR } from './unit-file.ts';
import { DIGITALOCEAN_API_URL_DEFAULT, DIGITALOCEAN_TAG_PATTERN, DIGITALOCEAN_TAG_RULE } from '../spec/digitalocean.ts';


export const ETCD_LOOKUP_SCRIPT_PATH = '/usr/local/bin/etcd-lookup';
export const ETCD_LOOKUP_UNIT_NAME = 'etcd-lookup.service';
export const ETCD_LOOKUP_UNIT_PATH = `${SYSTEMD_DIR}/${ETCD_LOOKUP_UNIT_NAME}`;
/** flanneld's EnvironmentFile: `ETCD_MEMBERS=https://10.133.0.5:2379,...` */
export const ETCD_MEMBERS_PATH = flannelEtcdPaths.etcdMembers;
/** the read-only DigitalOcean token, mode 0600; placed by apply, never rendered into a tree */
export const DIGITALOCEAN_TOKEN_PATH = '/etc/flannel/do-token';
/** optional overrides (e.g. DIGITALOCEAN_API_URL=https://do-proxy.internal for a DigitalOcean-compatible API; https only) */
export const ETCD_LOOKUP_ENV_PATH = '/etc/flannel/etcd-lookup.env';

const safeEndpoint = /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/;

interface LookupSources {
  tag: string | undefined;
  staticEndpoints: string[];
}

function lookupSources(cluster: Cluster): LookupSources {
  const { digitaloceanTag: tag, endpoints = [] } = cluster.etcd.discovery;
  if (tag !== undefined && !DIGITALOCEAN_TAG_PATTERN.test(tag)) {
    throw new InputError(`etcd.discovery.digitaloceanTag: ${DIGITALOCEAN_TAG_RULE} (got ${JSON.stringify(tag)})`, {
      hint: 'use the DigitalOcean tag your etcd droplets carry, e.g. k8s-etcd',
    });
  }
  const staticEndpoints = sortEndpoints(
    endpoints.map((e) => {
      const n = normalizeEtcdEndpoint(e);
      if (!safeEndpoint.test(n)) {
        throw new InputError(`etcd.discovery.endpoints: ${JSON.stringify(e)} is not a plain scheme://host:port URL`, { hint: 'write endpoints like https://10.0.0.5:2379' });
      }
      return n;
    }),
  );
  return { tag, staticEndpoints };
}

/** ~100 first lookups a minute across the fleet: 60 s per 100 workers (0 without a tag: no API). */
export function etcdLookupJitterSeconds(cluster: Cluster): number {
  return cluster.etcd.discovery.digitaloceanTag === undefined ? 0 : Math.ceil((cluster.workers.count * 60) / 100);
}

/** a members file younger than this is used without asking the API */
export const ETCD_LOOKUP_REFRESH_SECONDS = 86_400;
/** the longest back-off between failed lookups */
export const ETCD_LOOKUP_MAX_BACKOFF_SECONDS = 300;

/** The POSIX sh script, byte-identical for the same spec. */
export function renderEtcdLookupScript(cluster: Cluster): string {
  const { tag, staticEndpoints } = lookupSources(cluster);
  const source = [
    tag !== undefined ? `droplets tagged "${tag}" (their private IPv4; DigitalOcean API, read-only token in ${DIGITALOCEAN_TOKEN_PATH}, mode 0600)` : '',
    staticEndpoints.length > 0 ? 'the static endpoints from the spec' : '',
  ].filter(Boolean);
  // the example the comment shows is computed the same way the script builds its lines
  const example = endpointForIp('10.133.0.5');
  return `#!/bin/sh
# etcd-lookup: writes ETCD_MEMBERS=${example},... to ${ETCD_MEMBERS_PATH}
# for flanneld (EnvironmentFile=). Rendered by kubewright for cluster "${cluster.name}": re-render, don't edit.
# Members: ${source.length > 0 ? source.join(' + ') : 'none configured (set etcd.discovery in the spec)'}.
# Needs sh, curl and python3 (on every Ubuntu cloud image: cloud-init is written in Python).
# Retries until it knows >= 1 member (ETCD_LOOKUP_ATTEMPTS, 0 = no limit), backing off from
# ETCD_LOOKUP_RETRY_SECONDS (doubling, random half to all of each step, at most ${ETCD_LOOKUP_MAX_BACKOFF_SECONDS} s); a 429 waits
# for retry-after or ratelimit-reset. A members file younger than ETCD_LOOKUP_REFRESH_SECONDS is
# used without asking the API; before asking, a random 0..ETCD_LOOKUP_JITTER_SECONDS delay spreads
# a fleet's lookups (all of them share one token's 250 requests a minute).
# Overrides (in ${ETCD_LOOKUP_ENV_PATH}): DIGITALOCEAN_API_URL and the ETCD_LOOKUP_* above.
set -u

TAG='${tag ?? ''}'
STATIC_ENDPOINTS='${staticEndpoints.join(' ')}'
PORT=${ETCD_CLIENT_PORT}
API_URL="\${DIGITALOCEAN_API_URL:-${DIGITALOCEAN_API_URL_DEFAULT}}"
TOKEN_FILE="${DIGITALOCEAN_TOKEN_PATH}"
MEMBERS_FILE="${ETCD_MEMBERS_PATH}"
ATTEMPTS="\${ETCD_LOOKUP_ATTEMPTS:-0}"
RETRY_SECONDS="\${ETCD_LOOKUP_RETRY_SECONDS:-10}"
REFRESH_SECONDS="\${ETCD_LOOKUP_REFRESH_SECONDS:-${ETCD_LOOKUP_REFRESH_SECONDS}}"
JITTER_SECONDS="\${ETCD_LOOKUP_JITTER_SECONDS:-${etcdLookupJitterSeconds(cluster)}}"
MAX_BACKOFF=${ETCD_LOOKUP_MAX_BACKOFF_SECONDS}
MAX_PAGES=100

log() { echo "etcd-lookup: $*" >&2; }
die() { log "$*"; exit 1; }
# a uniform random integer in [0, $1] from /dev/urandom
random_upto() {
  [ "$1" -gt 0 ] || { echo 0; return; }
  r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' \\n')
  echo $(( \${r:-0} % ($1 + 1) ))
}
pause() {
  [ "$1" -gt 0 ] || return 0
  log "waiting $1 s $2"
  sleep "$1"
}

[ -n "$TAG" ] || [ -n "$STATIC_ENDPOINTS" ] || die "no etcd discovery configured — set etcd.discovery.digitaloceanTag or etcd.discovery.endpoints in the spec and re-apply"
if [ -n "$TAG" ]; then
  case "$API_URL" in
    https://*) ;;
    *) die "DIGITALOCEAN_API_URL=$API_URL is not an https:// URL: the API token is only ever sent over TLS — use https (see ${ETCD_LOOKUP_ENV_PATH})" ;;
  esac
fi

WORK=$(mktemp -d "\${TMPDIR:-/tmp}/etcd-lookup.XXXXXX") || die "cannot create a temp dir"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' HUP INT TERM

read_token() {
  [ -f "$TOKEN_FILE" ] || die "cannot read the DigitalOcean token: $TOKEN_FILE does not exist — put a read-only API token there (chmod 600)"
  mode=$(stat -c %a "$TOKEN_FILE") || die "cannot stat $TOKEN_FILE"
  case "$mode" in
    *00) ;;
    *) die "$TOKEN_FILE has mode $mode: a token must not be readable by group or others — chmod 600 $TOKEN_FILE" ;;
  esac
  owner=$(stat -c %u "$TOKEN_FILE")
  [ "$owner" = "$(id -u)" ] || die "$TOKEN_FILE belongs to uid $owner, not to uid $(id -u) that runs etcd-lookup — chown it"
  TOKEN=$(tr -d ' \\t\\r\\n' <"$TOKEN_FILE") || die "cannot read $TOKEN_FILE"
  case "$TOKEN" in
    '') die "$TOKEN_FILE is empty — put a read-only DigitalOcean API token there" ;;
    *[!A-Za-z0-9_.-]*) die "$TOKEN_FILE holds characters a DigitalOcean token never has — put the token alone in it" ;;
  esac
  command -v python3 >/dev/null 2>&1 || die "python3 not found: it reads the DigitalOcean API's JSON — install python3"
}

curl_error() {
  [ -s "$WORK/curl.err" ] && printf ' (%s)' "$(head -c 200 "$WORK/curl.err" | tr '\\n' ' ')"
}

# one page of droplets; prints the HTTP status (000: no answer). The token reaches curl on stdin.
fetch_page() {
  : >"$WORK/headers"
  printf 'header = "Authorization: Bearer %s"\\n' "$TOKEN" |
    curl --proto =https --silent --show-error --config - --max-time 30 --output "$WORK/page.json" --dump-header "$WORK/headers" --write-out '%{http_code}' \\
      "$API_URL/v2/droplets?tag_name=$TAG&per_page=200&page=$1" 2>"$WORK/curl.err"
}

# a numeric response header of the last page ($1, any case), or nothing
header_value() {
  tr -d '\\r' <"$WORK/headers" | sed -n "s/^$1:[[:space:]]*\\([0-9][0-9]*\\)[[:space:]]*$/\\1/Ip" | tail -n 1
}

# after a 429: the seconds DigitalOcean asks for (retry-after, else ratelimit-reset when nothing remains), or nothing
rate_limit_wait() {
  after=$(header_value retry-after)
  if [ -n "$after" ]; then echo "$after"; return; fi
  if [ "$(header_value ratelimit-remaining)" = 0 ]; then
    reset=$(header_value ratelimit-reset)
    [ -n "$reset" ] && echo $(( reset > $(date +%s) ? reset - $(date +%s) : 1 ))
  fi
}

# "ip <private IPv4>" per droplet address, then "next yes|no" (links.pages.next)
parse_page() {
  python3 - "$WORK/page.json" <<'PY'
import ipaddress, json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
for droplet in d.get("droplets") or []:
    for n in (droplet.get("networks") or {}).get("v4") or []:
        if n.get("type") == "private":
            try:
                print("ip " + str(ipaddress.IPv4Address(n.get("ip_address"))))
            except (ipaddress.AddressValueError, ValueError, TypeError):
                pass
print("next " + ("yes" if ((d.get("links") or {}).get("pages") or {}).get("next") else "no"))
PY
}

# every page of droplets tagged $TAG into $WORK/found; 1 on a failure worth retrying
lookup_droplets() {
  page=1
  : >"$WORK/found"
  while [ "$page" -le "$MAX_PAGES" ]; do
    status=$(fetch_page "$page")
    case "$status" in
      200) ;;
      401 | 403) die "the DigitalOcean API rejected the token in $TOKEN_FILE (HTTP $status) — put a valid read-only token there" ;;
      429)
        RATE_WAIT=$(rate_limit_wait)
        log "DigitalOcean API $API_URL: HTTP 429 listing droplets tagged $TAG (rate limited\${RATE_WAIT:+, wait $RATE_WAIT s})"
        return 1
        ;;
      5?? | 000) log "DigitalOcean API $API_URL: HTTP $status listing droplets tagged $TAG$(curl_error)"; return 1 ;;
      *) die "DigitalOcean API $API_URL: unexpected HTTP $status listing droplets tagged $TAG" ;;
    esac
    parse_page >"$WORK/parsed" 2>"$WORK/python.err" || { log "DigitalOcean API: page $page is not droplet JSON"; return 1; }
    sed -n "s|^ip \\(.*\\)$|https://\\1:$PORT|p" "$WORK/parsed" >>"$WORK/found"
    grep -q '^next yes$' "$WORK/parsed" || return 0
    page=$((page + 1))
  done
  die "more than $MAX_PAGES pages of droplets tagged $TAG — use a tag only etcd droplets carry"
}

# atomically (temp file + mv in the same directory); an unchanged file is left alone
write_members() {
  line="ETCD_MEMBERS=$1"
  if [ -f "$MEMBERS_FILE" ] && [ "$(cat "$MEMBERS_FILE")" = "$line" ]; then
    # same inode and contents; the new mtime records when the list was last confirmed (the refresh age)
    touch "$MEMBERS_FILE" 2>/dev/null || true
    log "unchanged: $line"
    return 0
  fi
  dir=$(dirname "$MEMBERS_FILE")
  mkdir -p "$dir" || die "cannot create $dir"
  tmp="$dir/.etcd-members.$$"
  if printf '%s\\n' "$line" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$MEMBERS_FILE"; then
    log "wrote $line to $MEMBERS_FILE"
  else
    rm -f "$tmp"
    die "cannot write $MEMBERS_FILE"
  fi
}

if [ -n "$TAG" ]; then
  read_token
  if [ "$REFRESH_SECONDS" -gt 0 ] && [ -s "$MEMBERS_FILE" ] && grep -q '^ETCD_MEMBERS=.' "$MEMBERS_FILE"; then
    age=$(( $(date +%s) - $(stat -c %Y "$MEMBERS_FILE") ))
    if [ "$age" -ge 0 ] && [ "$age" -lt "$REFRESH_SECONDS" ]; then
      log "$MEMBERS_FILE is $age s old (asked again after $REFRESH_SECONDS s): using it without asking the API"
      exit 0
    fi
  fi
  pause "$(random_upto "$JITTER_SECONDS")" "(random start delay of up to $JITTER_SECONDS s: the fleet shares one token's rate limit)"
fi
attempt=0
backoff=$RETRY_SECONDS
while :; do
  attempt=$((attempt + 1))
  : >"$WORK/members"
  for e in $STATIC_ENDPOINTS; do echo "$e" >>"$WORK/members"; done
  complete=yes
  RATE_WAIT=
  if [ -n "$TAG" ]; then
    if lookup_droplets; then cat "$WORK/found" >>"$WORK/members"; else complete=no; fi
  fi
  members=$(LC_ALL=C sort -u "$WORK/members" | paste -s -d, -)
  if [ -n "$members" ]; then
    [ "$complete" = yes ] || log "the DigitalOcean API did not answer: writing the static endpoints alone"
    write_members "$members"
    exit 0
  fi
  if [ "$complete" = no ] && [ -s "$MEMBERS_FILE" ] && grep -q '^ETCD_MEMBERS=.' "$MEMBERS_FILE"; then
    log "the DigitalOcean API did not answer: keeping the members already in $MEMBERS_FILE"
    exit 0
  fi
  [ "$complete" = no ] || log "no etcd members yet: no droplet tagged $TAG has a private IPv4 address (attempt $attempt)"
  if [ "$ATTEMPTS" -gt 0 ] && [ "$attempt" -ge "$ATTEMPTS" ]; then
    die "no etcd members found after $attempt attempts"
  fi
  if [ -n "$RATE_WAIT" ]; then
    # every node that met the limit hears the same time: spread their retries over the jitter window again
    spread=$JITTER_SECONDS
    [ "$spread" -ge "$RETRY_SECONDS" ] || spread=$RETRY_SECONDS
    pause $((RATE_WAIT + $(random_upto "$spread"))) "(rate limited)"
  else
    # equal jitter: at least half the step, so retries spread out but still back off
    pause $((backoff / 2 + $(random_upto $((backoff - backoff / 2))))) "before attempt $((attempt + 1))"
  fi
  backoff=$((backoff * 2))
  [ "$backoff" -le "$MAX_BACKOFF" ] || backoff=$MAX_BACKOFF
done
`;
}

/** The oneshot unit; RemainAfterExit so flanneld's Requires= sees it active after it finished. */
export function renderEtcdLookupUnit(cluster: Cluster): string {
  const { tag } = lookupSources(cluster);
  return renderServiceUnit({
    unit: [
      ['Description', `etcd-lookup: find the etcd members flanneld connects to (${ETCD_MEMBERS_PATH})`],
      ['Wants', 'network-online.target'],
      ['After', 'network-online.target'],
    ],
    service: [
      ['Type', 'oneshot'],
      ['RemainAfterExit', 'yes'],
      ...(tag !== undefined ? [['Environment', `DIGITALOCEAN_API_URL=${DIGITALOCEAN_API_URL_DEFAULT}`] as const] : []),
      ['EnvironmentFile', `-${ETCD_LOOKUP_ENV_PATH}`],
      ['ExecStart', ETCD_LOOKUP_SCRIPT_PATH],
      // the script retries until it finds a member; 0 = no start timeout (also on systemd 229)
      ['TimeoutStartSec', '0'],
    ],
    restart: 'none',
  });
}

/** etcd-lookup for the derivation of what each unit reads (unit-reads.ts) */
export const etcdLookupUnitSource: UnitSource = { name: ETCD_LOOKUP_UNIT_NAME, roots: [ETCD_LOOKUP_UNIT_PATH] };

export function renderEtcdLookup(cluster: Cluster): { files: RenderedFile[]; unit: RenderedUnit } {
  const { tag } = lookupSources(cluster);
  const files: RenderedFile[] = [
    { path: ETCD_LOOKUP_SCRIPT_PATH, mode: 0o755, contents: renderEtcdLookupScript(cluster) },
    { path: ETCD_LOOKUP_UNIT_PATH, mode: 0o644, contents: renderEtcdLookupUnit(cluster) },
  ];
  // the token file is placed by apply (a secret), so it counts as managed only when a tag needs it
  const [unit] = deriveUnitReads([etcdLookupUnitSource], files, [], tag !== undefined ? [DIGITALOCEAN_TOKEN_PATH] : []);
  return { files, unit: unit! };
}

/**
 * The members file as kubewright knows it at apply time: byte for byte what the script writes for
 * the same members (LC_ALL=C sort -u, comma-joined), mode 0644, so the two never fight.
 */
export function etcdMembersFile(endpoints: readonly string[]): RenderedFile {
  return { path: ETCD_MEMBERS_PATH, mode: 0o644, contents: `${formatEtcdMembersLine(sortEndpoints(endpoints))}\n` };
}

/** The token file apply places on a node (secret: never shown in a plan or log). */
export function digitaloceanTokenFile(token: string): RenderedFile {
  return { path: DIGITALOCEAN_TOKEN_PATH, mode: 0o600, contents: `${token.trim()}\n`, secret: true };
}

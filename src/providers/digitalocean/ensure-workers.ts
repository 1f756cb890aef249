// Ensure N worker droplets exist and are active: list by tag, create only the missing names in
// multi-create calls of ≤ 10, then poll the list-by-tag endpoint (one listing per round, not one
// call per droplet) until every worker is active with its IPv4 addresses. 1,000 workers: 100
// creates and about 120 calls in all, paced by the client inside the token's rate limits. A create whose outcome is unknown
// is never repeated blindly: the list by tag decides which names are still missing, so no
// duplicate droplet is made. Extra workers (index ≥ N) are deleted only with `prune`.
import { KubewrightError } from '../../errors.ts';
import { workerName } from '../provider.ts';
import { maxPerPage, systemClock, type Clock, type DigitalOceanClient } from './api-client.ts';
import { createDroplets, deleteDroplet, dropletAddresses, listDropletsByTag, maxNamesPerCreate, type Droplet } from './droplets.ts';
import { DigitalOceanUncertainError } from './errors.ts';
import { checkDropletLimit } from './droplet-limit.ts';

export interface WorkerPoolSpec {
  region: string;
  size: string;
  image: string | number;
  /** tags[0] identifies the pool: it is listed, polled and deleted by */
  tags: string[];
  vpcUuid: string | null;
  domain: string;
  namePattern: string;
}

export interface EnsureEvent {
  kind: 'found' | 'create' | 'create-uncertain' | 'poll' | 'prune' | 'extra';
  names: string[];
  detail?: string;
}

export interface EnsureWorkersOptions {
  client: DigitalOceanClient;
  pool: WorkerPoolSpec;
  count: number;
  /** account SSH keys for new droplets, or how to find them (asked only when something is created) */
  sshKeys: (string | number)[] | (() => Promise<(string | number)[]>);
  /** user_data for one create call, given the names in it (host keys) */
  userData?: (names: string[]) => Promise<string | undefined>;
  prune?: boolean;
  clock?: Clock;
  /** between list-by-tag polls, per page of 200 droplets listed (default 5 s) */
  pollIntervalMs?: number;
  /** for the whole ensure, creates and polling (default 10 min) */
  deadlineMs?: number;
  /** listings (≤ 2 s apart) after a create with an unknown outcome before its names count as missing (default 3) */
  settleListings?: number;
  /** create attempts per batch when outcomes are unknown (default 5) */
  maxCreateAttempts?: number;
  onEvent?: (e: EnsureEvent) => void;
}

export interface EnsuredWorker {
  name: string;
  id: number;
  publicAddress: string;
  privateAddress: string | undefined;
  created: boolean;
}

export interface EnsureResult {
  workers: EnsuredWorker[];
  created: string[];
  /** workers with an index ≥ count that still exist (kept unless prune) */
  extras: string[];
  pruned: string[];
}

export class EnsureWorkersError extends KubewrightError {}

export async function ensureWorkers(opts: EnsureWorkersOptions): Promise<EnsureResult> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + (opts.deadlineMs ?? 10 * 60_000);
  const pollMs = opts.pollIntervalMs ?? 5_000;
  const tag = opts.pool.tags[0];
  if (tag === undefined) throw new EnsureWorkersError('provider.digitalocean.tags: needs at least one tag', { hint: 'e.g. tags: [k8s-worker]' });
  const emit = (e: EnsureEvent): void => opts.onEvent?.(e);
  const wanted = Array.from({ length: opts.count }, (_, i) => workerName(opts.pool.namePattern, i, opts.pool.domain));
  const wantedSet = new Set(wanted);

  let listed = await listDropletsByTag(opts.client, tag);
  const before = new Set(listed.map((d) => d.name));
  emit({ kind: 'found', names: wanted.filter((n) => before.has(n)) });

  const missing = wanted.filter((n) => !before.has(n));
  // the account's droplet limit is the first quota a large pool meets: fail before any create
  if (missing.length > 0) await checkDropletLimit(opts.client, missing.length);
  const sshKeys = missing.length === 0 ? [] : typeof opts.sshKeys === 'function' ? await opts.sshKeys() : opts.sshKeys;
  for (let i = 0; i < missing.length; i += maxNamesPerCreate) {
    let batch = missing.slice(i, i + maxNamesPerCreate);
    for (let attempt = 1; batch.length > 0; attempt++) {
      if (attempt > (opts.maxCreateAttempts ?? 5)) {
        throw new EnsureWorkersError(`digitalocean: creating ${batch.join(', ')}: outcome still unknown after ${attempt - 1} attempts`, {
          hint: 'the API keeps failing; rerun later — reruns list by tag first and create only what is missing',
        });
      }
      emit({ kind: 'create', names: batch });
      try {
        const userData = await opts.userData?.(batch);
        await createDroplets(opts.client, {
          names: batch,
          region: opts.pool.region,
          size: opts.pool.size,
          image: opts.pool.image,
          tags: opts.pool.tags,
          ssh_keys: sshKeys,
          ...(opts.pool.vpcUuid ? { vpc_uuid: opts.pool.vpcUuid } : {}),
          ...(userData === undefined ? {} : { user_data: userData }),
        });
        batch = [];
      } catch (e) {
        if (!(e instanceof DigitalOceanUncertainError)) throw e;
        // the create may have happened: let the list decide what is still missing. A droplet may show
        // up in the list a moment after its create, so a name is only "missing" after a few listings.
        emit({ kind: 'create-uncertain', names: batch, detail: e.message });
        const settle = opts.settleListings ?? 3;
        for (let look = 1; look <= settle && batch.length > 0; look++) {
          if (look > 1) await clock.sleep(Math.min(pollMs, 2_000));
          listed = await listDropletsByTag(opts.client, tag);
          const now = new Set(listed.map((d) => d.name));
          batch = batch.filter((n) => !now.has(n));
        }
        if (clock.now() > deadline) throw deadlineError(batch);
      }
    }
  }

  // wait: one list-by-tag per round (one call per 200 droplets); when nothing was created the first
  // listing serves as round one. A round of p pages waits p poll intervals, so polling costs one call
  // per interval whatever the pool's size (1,000 workers: 5 pages every 25 s, not every 5 s).
  for (let round = 0; ; round++) {
    if (round > 0 || missing.length > 0) listed = await listDropletsByTag(opts.client, tag);
    const byName = firstByName(listed);
    const pending = wanted.filter((n) => {
      const d = byName.get(n);
      return !d || d.status !== 'active' || dropletAddresses(d).publicAddress === undefined;
    });
    emit({ kind: 'poll', names: pending });
    if (pending.length === 0) break;
    const waitMs = pollMs * Math.max(1, Math.ceil(listed.length / maxPerPage));
    if (clock.now() + waitMs > deadline) throw deadlineError(pending);
    await clock.sleep(waitMs);
  }

  const byName = firstByName(listed);
  const extras = extraWorkers(listed, opts.pool, wantedSet);
  if (extras.length > 0) emit({ kind: 'extra', names: extras.map((d) => d.name) });
  const pruned: string[] = [];
  if (opts.prune) {
    for (const d of extras) {
      emit({ kind: 'prune', names: [d.name] });
      await deleteDroplet(opts.client, d.id);
      pruned.push(d.name);
    }
  }
  const workers = wanted.map((name): EnsuredWorker => {
    const d = byName.get(name);
    const addr = d ? dropletAddresses(d) : undefined;
    if (!d || !addr?.publicAddress) throw deadlineError([name]);
    return { name, id: d.id, publicAddress: addr.publicAddress, privateAddress: addr.privateAddress, created: !before.has(name) };
  });
  return {
    workers,
    created: workers.filter((w) => w.created).map((w) => w.name),
    extras: extras.map((d) => d.name).filter((n) => !pruned.includes(n)),
    pruned,
  };
}

function deadlineError(pending: string[]): EnsureWorkersError {
  const shown = pending.length > 5 ? `${pending.slice(0, 5).join(', ')} and ${pending.length - 5} more` : pending.join(', ');
  return new EnsureWorkersError(`digitalocean: droplets not active before the deadline: ${shown}`, {
    hint: 'check the droplets in the DigitalOcean console; rerun to keep waiting (nothing is created twice)',
  });
}

/** The lowest id per name, so a stray duplicate someone else made never shadows the original. */
function firstByName(droplets: readonly Droplet[]): Map<string, Droplet> {
  const m = new Map<string, Droplet>();
  for (const d of droplets) {
    const prev = m.get(d.name);
    if (!prev || d.id < prev.id) m.set(d.name, d);
  }
  return m;
}

/** Matches the pool's worker names; group 1 is the index. */
export function workerNameRegExp(pool: Pick<WorkerPoolSpec, 'namePattern' | 'domain'>): RegExp {
  const escaped = pool.namePattern
    .split('{index}')
    .map((part) => part.replaceAll('{domain}', pool.domain).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('(\\d+)')}$`);
}

/** Droplets of the pool's pattern with an index ≥ count, highest index first. */
export function extraWorkers(droplets: readonly Droplet[], pool: Pick<WorkerPoolSpec, 'namePattern' | 'domain'>, wanted: ReadonlySet<string>): Droplet[] {
  const re = workerNameRegExp(pool);
  return droplets
    .map((d) => ({ d, m: re.exec(d.name) }))
    .filter((x): x is { d: Droplet; m: RegExpExecArray } => x.m !== null && !wanted.has(x.d.name))
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]))
    .map((x) => x.d);
}

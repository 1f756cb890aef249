// provider: lab — N local machines as systemd-nspawn containers on a bridge this tool creates.
// Machines keep their writes in a tmpfs overlay while they run (--volatile=overlay): a running
// machine is left alone by `ensure`, a stopped one boots fresh from the image, `destroy` removes
// containers, veths, bridge, cgroups, pinned known_hosts lines and the state dir. A running machine
// the spec no longer wants (provider.lab.hosts lowered) keeps running, reported as an extra, until
// `up --prune` has drained and reset it and `release` removes it.
import { existsSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Cluster } from '../../spec/cluster.ts';
import { noReport, plannedHosts, type DestroyResult, type EnsuredHosts, type Provider, type ProviderPlan, type Teardown } from '../provider.ts';
import type { Host } from '../../spec/host.ts';
import { labAddressPlan } from './lab-address-plan.ts';
import { bridgePorts, createBridge, deleteLink, linkExists } from './lab-bridge.ts';
import { labCgroupRoots, removeCgroupTree } from './lab-cgroups.ts';
import { acquireDirLock } from './dir-lock.ts';
import { LabError } from './lab-errors.ts';
import { isOurMachineRunning, renderHost0Network, startLabMachine, stopLabMachine, waitForSshBanner } from './lab-machine.ts';
import { checkLabPrerequisites } from './lab-prerequisites.ts';
import { labStateDir, readLabState, writeLabState, type LabMachineState, type LabState } from './lab-state.ts';
import { ensureEd25519Key, pinKnownHosts, publicKeyOf, unpinKnownHost, unpinKnownHosts } from './lab-ssh-keys.ts';
import { specPath } from '../../spec/spec-path.ts';
import { ensureRootfsImage } from './rootfs-image.ts';

export interface LabProviderOptions {
  /** where state, host keys and logs live; default labStateDir(cluster) */
  stateDir?: string;
  /** the cached image; default ~/.cache/kubewright/rootfs-bookworm (KUBEWRIGHT_LAB_ROOTFS) */
  rootfsDir?: string;
  progress?: (line: string) => void;
  readyTimeoutMs?: number;
}

export class LabProvider implements Provider {
  readonly kind = 'lab';
  readonly stateDir: string;
  private readonly lab: Extract<Cluster['provider'], { kind: 'lab' }>;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: LabProviderOptions = {},
  ) {
    if (cluster.provider.kind !== 'lab') throw new LabError(`lab provider: the spec's provider is ${cluster.provider.kind}`, { hint: 'set provider.lab in the spec' });
    this.lab = cluster.provider;
    this.stateDir = opts.stateDir ?? labStateDir(cluster);
  }

  /** The planned hosts with the addresses of machines that are running now. */
  async recorded(): Promise<Host[]> {
    const state = await readLabState(this.stateDir);
    return plannedHosts(this.cluster).map((h) => {
      const m = state?.machines.find((x) => x.name === h.name);
      const address = m && isOurMachineRunning(m) ? m.address : undefined;
      return { ...h, address, privateAddress: address, publicAddress: address };
    });
  }

  /** The machines as they run now (a stopped one has no address); the lab reports no machine plan. */
  async plan(): Promise<ProviderPlan> {
    return { hosts: await this.recorded() };
  }

  async ensure(): Promise<EnsuredHosts> {
    const before = new Set((await this.recorded()).filter((h) => h.address).map((h) => h.name));
    const hosts = await this.boot();
    const extras = (await this.retired()).map((h) => h.name);
    return { hosts, report: { ...noReport(), created: hosts.filter((h) => !before.has(h.name)).map((h) => h.name), extras } };
  }

  /** Running machines the spec no longer plans (provider.lab.hosts lowered), reachable as they were. */
  async retired(): Promise<Host[]> {
    const planned = new Set(plannedHosts(this.cluster).map((h) => h.name));
    const state = await readLabState(this.stateDir);
    return (state?.machines ?? [])
      .filter((m) => !planned.has(m.name) && isOurMachineRunning(m))
      .map((m) => ({ name: m.name, address: m.address, port: 22, user: 'root', privateAddress: m.address, publicAddress: m.address }));
  }

  /** Stops these retired machines and removes their files, state entry and pinned host key. */
  async release(hosts: readonly Host[]): Promise<string[]> {
    const names = new Set(hosts.map((h) => h.name));
    const planned = plannedHosts(this.cluster).filter((h) => names.has(h.name)).map((h) => h.name);
    if (planned.length > 0) throw new LabError(`lab: refusing to remove ${planned.join(', ')}: still planned by provider.lab.hosts`, { hint: 'lower provider.lab.hosts first' });
    const unlock = await acquireDirLock(`${this.stateDir}.lock`, `lab ${this.cluster.name}`, { timeoutMs: 5 * 60_000 });
    try {
      const state = await readLabState(this.stateDir);
      if (!state) return [];
      const gone = state.machines.filter((m) => names.has(m.name));
      for (const m of gone) {
        await stopLabMachine(m);
        await rm(`/run/systemd/nspawn/propagate/${m.name}`, { recursive: true, force: true });
        await rm(join(this.stateDir, m.name), { recursive: true, force: true });
        await unpinKnownHost(state.knownHostsPath, state.cluster, m.name);
      }
      await writeLabState(this.stateDir, { ...state, machines: state.machines.filter((m) => !names.has(m.name)) });
      return gone.map((m) => m.name);
    } finally {
      await unlock?.();
    }
  }

  /** Boots what is not running (idempotent) and returns every machine. */
  async boot(): Promise<Host[]> {
    checkLabPrerequisites();
    const say = this.opts.progress ?? (() => undefined);
    const rootfs = await ensureRootfsImage({ ...(this.opts.rootfsDir ? { dir: this.opts.rootfsDir } : {}), progress: say });
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    // two `up`s of one lab at once would boot every machine twice
    const release = await acquireDirLock(`${this.stateDir}.lock`, `lab ${this.cluster.name}`, { timeoutMs: 5 * 60_000 });
    try {
      return await this.ensureLocked(rootfs, say);
    } finally {
      await release?.();
    }
  }

  private async ensureLocked(rootfs: string, say: (line: string) => void): Promise<Host[]> {
    const planned = plannedHosts(this.cluster);
    const plan = labAddressPlan(this.lab.subnet, planned.length);
    const knownHostsPath = specPath(this.cluster, this.cluster.ssh.knownHostsPath);
    const apiHost = new URL(this.cluster.kubernetes.apiServer).hostname;
    if (apiHost !== plan.bridgeAddress) {
      say(`lab: note: kubernetes.apiServer is ${this.cluster.kubernetes.apiServer}; lab machines reach only the bridge (this machine is ${plan.bridgeAddress})`);
    }
    const previous = await readLabState(this.stateDir);
    if (previous && (previous.bridge !== this.lab.bridge || previous.subnet !== this.lab.subnet)) {
      throw new LabError(`lab ${this.cluster.name}: running on bridge ${previous.bridge} (${previous.subnet}), the spec now says ${this.lab.bridge} (${this.lab.subnet})`, { hint: 'run `kubewright lab down -f` first, then up again' });
    }
    const state: LabState = previous ?? {
      cluster: this.cluster.name, bridge: this.lab.bridge, subnet: this.lab.subnet, bridgeAddress: plan.bridgeAddress,
      cgroups: labCgroupRoots(`kubewright-lab-${this.lab.bridge}`), knownHostsPath, machines: [],
    };
    state.knownHostsPath = knownHostsPath;
    await writeLabState(this.stateDir, state);

    if (!(await linkExists(this.lab.bridge))) {
      say(`lab: bridge ${this.lab.bridge} ${plan.bridgeAddress}/${plan.prefix}`);
      await createBridge(this.lab.bridge, plan.bridgeAddress, plan.prefix);
    } else if (!previous) {
      throw new LabError(`lab bridge ${this.lab.bridge}: already exists and is not this lab's`, { hint: 'choose another provider.lab.bridge, or remove it with `ip link del` if it is left over' });
    }

    // root logs in with the spec's key; kubewright creates it if it does not exist yet
    const clientKey = specPath(this.cluster, this.cluster.ssh.privateKeyPath);
    const clientPub = existsSync(clientKey)
      ? await publicKeyOf(clientKey, this.cluster.ssh.publicKeyPath ? specPath(this.cluster, this.cluster.ssh.publicKeyPath) : undefined)
      : await ensureEd25519Key(clientKey, `kubewright-lab-${this.cluster.name}`);
    const authorizedKeysFile = join(this.stateDir, 'authorized_keys');
    await writeFile(authorizedKeysFile, `${clientPub}\n`, { mode: 0o600 });

    // machines no longer in the spec: a running one stays (and stays pinned) until `up --prune`
    // drained, reset and released it; a stopped one has nothing to drain and is forgotten
    const retired = state.machines.filter((x) => !planned.some((h) => h.name === x.name));
    state.machines = state.machines.filter((x) => planned.some((h) => h.name === x.name) || isOurMachineRunning(x));
    for (const m of retired.filter((x) => !isOurMachineRunning(x))) await rm(join(this.stateDir, m.name), { recursive: true, force: true });

    const pins: { address: string; publicKey: string; name: string }[] = [];
    for (const m of state.machines.filter((x) => !planned.some((h) => h.name === x.name))) {
      pins.push({ address: m.address, publicKey: await publicKeyOf(join(this.stateDir, m.name, 'ssh_host_ed25519_key')), name: m.name });
    }
    const started: (LabMachineState & { logFile: string })[] = [];
    for (const [i, h] of planned.entries()) {
      const address = plan.machines[i] as string;
      const dir = join(this.stateDir, h.name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const hostKeyFile = join(dir, 'ssh_host_ed25519_key');
      pins.push({ address, publicKey: await ensureEd25519Key(hostKeyFile, `root@${h.name}`), name: h.name });
      const current = state.machines.find((x) => x.name === h.name);
      const logFile = join(dir, 'nspawn.log');
      if (current && isOurMachineRunning(current)) {
        started.push({ ...current, logFile });
        continue;
      }
      const networkFile = join(dir, 'host0.network');
      await writeFile(networkFile, renderHost0Network(address, plan.prefix), { mode: 0o644 });
      say(`${h.name}: booting ${address}`);
      const { pid, startTime } = startLabMachine({ name: h.name, rootfs, bridge: this.lab.bridge, cgroups: state.cgroups, networkFile, authorizedKeysFile, hostKeyFile, logFile });
      const m: LabMachineState = { name: h.name, address, pid, startTime };
      state.machines = [...state.machines.filter((x) => x.name !== h.name), m];
      await writeLabState(this.stateDir, state);
      started.push({ ...m, logFile });
    }
    await pinKnownHosts(knownHostsPath, this.cluster.name, pins);
    await Promise.all(started.map((m) => waitForSshBanner(m, this.opts.readyTimeoutMs)));
    return this.recorded();
  }

  async destroy(confirm: (t: Teardown) => Promise<boolean>): Promise<DestroyResult> {
    const running = (await this.recorded()).filter((h) => h.address).map((h) => h.name);
    const summary = `remove the lab of cluster ${this.cluster.name}`;
    const teardown: Teardown = {
      items: running.map((name) => ({ name, detail: 'will be stopped and removed (lab machine)' })),
      summary,
      question: `${summary} (machines, bridge ${this.lab.bridge}, addresses)?`,
      hint: 'pass --yes (or use `kubewright lab down`, which asks nothing)',
    };
    if (!(await confirm(teardown))) return { removed: [], message: 'nothing removed' };
    await this.remove();
    return { removed: running, message: `lab ${this.cluster.name}: ${running.length} machines, bridge ${this.lab.bridge} and its addresses removed` };
  }

  /** Stops every machine and removes what the lab created; safe to call when nothing runs. */
  async remove(): Promise<void> {
    const state = await readLabState(this.stateDir);
    // nothing recorded: nothing of ours runs (a bridge of that name belongs to someone else)
    if (!state) return;
    checkLabPrerequisites();
    await Promise.all(state.machines.map((m) => stopLabMachine(m)));
    // veths die with the container's namespace; remove any left over, then the bridge
    for (const port of await bridgePorts(state.bridge)) await deleteLink(port);
    await deleteLink(state.bridge);
    for (const c of state.cgroups) await removeCgroupTree(c);
    for (const m of state.machines) await rm(`/run/systemd/nspawn/propagate/${m.name}`, { recursive: true, force: true });
    await unpinKnownHosts(state.knownHostsPath, state.cluster);
    await rm(this.stateDir, { recursive: true, force: true });
    // the default state dir's parents (.kubewright/lab) go too when nothing else is in them
    for (const d of [dirname(this.stateDir), dirname(dirname(this.stateDir))]) {
      if (basename(d) === 'lab' || basename(d) === '.kubewright') await rmdir(d).catch(() => undefined);
    }
  }
}

// TEST DOUBLE: many SSH hosts served from ONE process with ssh2's `Server` (issue 16, the scale
// harness). Each host listens on its own loopback port (127.0.0.1:<port>, the OS picks it), has
// its own ed25519 host key, an in-memory file tree and an in-memory systemd, and accepts one
// generated client key as root. It does NOT interpret shell: it recognises the exact commands
// kubewright sends (the gather script is rebuilt with gather-facts.ts's own `gatherScript` from
// the paths, units and bin directory it names and must match byte for byte; the other commands
// are parsed and re-quoted with `shellQuote` and must match too) and answers anything else with
// exit 97 and a line in `unrecognised`, so drift between kubewright and the harness fails loudly.
// SFTP: open (create exclusive / read), write (in order), read, fstat, fsetstat (chmod), close,
// remove, and the fsync@openssh.com and posix-rename@openssh.com extensions, advertised in the
// VERSION packet as OpenSSH's sftp-server does.
//
// What it is faithful to (test/phases/ssh-harness-vs-lab.test.ts checks it against a lab
// machine with real systemd: the same plan before and after a first apply): a fresh Debian 12
// host's directories, stat data (inode, size, mtime/ctime with nanoseconds, mode), sha256, the
// unit states and invocation ids `systemctl show` reports, enable/restart/daemon-reload. What it
// is not: a kernel, a shell, real services. Large files (over 1 MiB) keep only their sha256 and
// size, so a thousand hosts do not hold a thousand copies of each binary; reading one fails.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { generateHostKey } from '../../src/providers/digitalocean/host-keys.ts';
import ssh2, { type Connection, type ServerChannel, type SFTPWrapper } from 'ssh2';
import { shellQuote } from '../../src/exec/shell-quote.ts';
import { gatherScript } from '../../src/phases/gather-facts.ts';
import { MANIFEST_PATH, STAT_FORMAT } from '../../src/phases/host-manifest.ts';
import { waitActiveScript } from '../../src/phases/start-units.ts';
import type { RenderedHost } from '../../src/render/types.ts';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Files up to this size keep their bytes (readable over SFTP); larger ones only their sha256. */
const KEEP_BYTES = 1024 * 1024;

/** What a fresh Debian 12 lab machine has (and kubewright's paths touch): directories that exist. */
const DEBIAN_DIRS = [
  '/', '/etc', '/etc/default', '/etc/systemd', '/etc/systemd/system', '/etc/modules-load.d', '/etc/sysctl.d',
  '/lib', '/lib/systemd', '/lib/systemd/system', '/opt', '/run', '/run/systemd', '/srv', '/tmp',
  '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/local/bin', '/usr/local/lib', '/usr/local/sbin', '/usr/sbin',
  '/var', '/var/lib', '/var/lib/systemd', '/var/log', '/var/run',
];

interface FileNode {
  inode: number;
  size: number;
  mode: number;
  mtime: string;
  ctime: string;
  sha256: string;
  /** the bytes, for files up to KEEP_BYTES */
  data?: Buffer | undefined;
}

interface UnitState {
  enabled: boolean;
  active: boolean;
  failed: boolean;
  invocationId: string;
  activeEnter: string;
  mainPid: number;
  /** a unit shipped by the OS (/lib/systemd/system), UnitFileState=static */
  static?: boolean;
  /** a Condition*= that is not met: starting it leaves it inactive with ConditionResult=no (as in a container) */
  conditionFails?: boolean;
}

export interface HarnessHostFaults {
  /** restarts of this host's units fail (the unit ends up failed, the journal says why) */
  failRestart?: boolean;
  /** new connections are closed before the handshake, like a host whose sshd is down */
  refuse?: boolean;
  /** called before each SFTP write is answered; the answer waits for it (a slow link, or a test holding an upload) */
  beforeWrite?: (path: string, offset: number) => Promise<void> | void;
}

let nextInode = 1_000_000;
/** `sec.nanoseconds` like `stat -c %.9Y`, strictly increasing within the process */
let lastNs = 0n;
function nowStamp(): string {
  let ns = BigInt(Date.now()) * 1_000_000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

const sha256Of = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** systemd's `Mon 2026-11-30 15:40:01 UTC` */
function systemdTime(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  return `${day} ${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

/** Splits a command's argument list the way the shell would for words built with `shellQuote`. */
function words(s: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (c === ' ') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if (/[$`"*?;&|<>(){}\n]/.test(c)) {
      return undefined;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** `words`, only when quoting them again gives exactly `s` (kubewright's own quoting). */
function quotedWords(s: string): string[] | undefined {
  const w = words(s);
  return w && w.map(shellQuote).join(' ') === s ? w : undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** One host the harness serves. */
export class HarnessHost {
  readonly files = new Map<string, FileNode>();
  readonly dirs = new Set(DEBIAN_DIRS);
  // as on the lab's Debian 12 container: systemd-sysctl runs; systemd-modules-load is skipped (no CAP_SYS_MODULE)
  readonly units = new Map<string, UnitState>([
    ['systemd-sysctl.service', { enabled: false, active: true, failed: false, invocationId: randomBytes(16).toString('hex'), activeEnter: systemdTime(new Date()), mainPid: 0, static: true }],
    ['systemd-modules-load.service', { enabled: false, active: false, failed: false, invocationId: '', activeEnter: '', mainPid: 0, static: true, conditionFails: true }],
  ]);
  faults: HarnessHostFaults = {};
  /** /proc/sys/net/ipv4/ip_forward: 0 on a fresh host (as the lab image), 1 once systemd-sysctl applied a sysctl.d file */
  private ipForward = false;
  /** every command this host was sent, in order (the gather script as `gather`) */
  readonly commands: string[] = [];
  port = 0;
  server: InstanceType<typeof Server> | undefined;
  readonly hostKey: { private: string; public: string };

  constructor(readonly name: string, private readonly harness: SshHarness) {
    // the product's generator: it keeps only a pair ssh2 parses back to the same public key (bounded retries)
    const k = generateHostKey(name);
    this.hostKey = { private: k.privateKey, public: k.publicKey };
  }

  /** `[127.0.0.1]:port ssh-ed25519 AAAA…` */
  get knownHostsLine(): string {
    const [type, b64] = this.hostKey.public.split(' ');
    return `[127.0.0.1]:${this.port} ${type} ${b64}`;
  }

  /** A file's contents (undefined when missing; throws for a large file, which keeps no bytes). */
  readFile(path: string): Buffer | undefined {
    const f = this.files.get(path);
    if (!f) return undefined;
    if (!f.data) throw new Error(`ssh harness: ${this.name}:${path} is ${f.size} bytes: only its sha256 is kept`);
    return f.data;
  }

  /** What `systemctl show`'s properties say about a unit. */
  unitActive(name: string): boolean {
    return this.units.get(name)?.active === true;
  }

  private unitFileExists(name: string): boolean {
    return this.units.get(name)?.static === true || this.files.has(`/etc/systemd/system/${name}`);
  }

  private unit(name: string): UnitState {
    let u = this.units.get(name);
    if (!u) this.units.set(name, (u = { enabled: false, active: false, failed: false, invocationId: '', activeEnter: '', mainPid: 0 }));
    return u;
  }

  private touch(path: string): FileNode | undefined {
    const f = this.files.get(path);
    if (f) f.ctime = nowStamp();
    return f;
  }

  /** A new file node (as an open for writing creates it). */
  newFile(mode: number): FileNode {
    const t = nowStamp();
    return { inode: nextInode++, size: 0, mode: mode & 0o7777, mtime: t, ctime: t, sha256: sha256Of(Buffer.alloc(0)), data: Buffer.alloc(0) };
  }

  private statLine(path: string): string | undefined {
    const f = this.files.get(path);
    if (!f) return undefined;
    return `{"path":"${path}","inode":${f.inode},"size":${f.size},"mtime":"${f.mtime}","ctime":"${f.ctime}","mode":"${f.mode.toString(8)}",`;
  }

  private showUnit(name: string): string {
    const u = this.units.get(name);
    const known = this.unitFileExists(name);
    const state = u?.active ? 'active' : u?.failed ? 'failed' : 'inactive';
    const ran = u?.active || u?.failed;
    // systemd's own property order, whatever order -p names them in
    return [
      `Id=${name}`,
      `LoadState=${known ? 'loaded' : 'not-found'}`,
      `ActiveState=${state}`,
      `UnitFileState=${!known ? '' : u?.static ? 'static' : u?.enabled ? 'enabled' : 'disabled'}`,
      `ActiveEnterTimestamp=${u?.activeEnter ?? ''}`,
      `ConditionResult=${ran ? 'yes' : 'no'}`,
      `InvocationID=${ran ? u.invocationId : ''}`,
    ].join('\n');
  }

  private mkdirP(dir: string): void {
    for (let d = dir; d !== '/' && d !== ''; d = posix.dirname(d)) this.dirs.add(d);
  }

  private restart(name: string): boolean {
    if (!this.unitFileExists(name)) return false;
    const u = this.unit(name);
    // skipped: the wait script sees inactive + ConditionResult=no and is done
    if (u.conditionFails) return true;
    u.invocationId = randomBytes(16).toString('hex');
    if (this.faults.failRestart) {
      u.active = false;
      u.failed = true;
      u.mainPid = 0;
      return false;
    }
    u.active = true;
    u.failed = false;
    // systemd-sysctl applies /etc/sysctl.d (kubewright's file turns ip_forward on)
    if (name === 'systemd-sysctl.service') this.ipForward = [...this.files.keys()].some((p) => p.startsWith('/etc/sysctl.d/'));
    u.activeEnter = systemdTime(new Date());
    u.mainPid = 10_000 + (randomBytes(2).readUInt16BE() % 50_000);
    return true;
  }

  /** Answers one exec request; `undefined` when the command is not one kubewright sends. */
  async exec(cmd: string): Promise<ExecResult | undefined> {
    const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', code: 0 });
    if (cmd.startsWith('export LC_ALL=C\n')) return this.gather(cmd);
    if (cmd === 'systemctl daemon-reload') return ok();
    let m: RegExpExecArray | null;
    if ((m = /^mkdir -p -m 0755 (?:-- )?(.+)$/.exec(cmd))) {
      const dirs = quotedWords(m[1]!);
      if (!dirs || dirs.some((d) => !d.startsWith('/'))) return undefined;
      for (const d of dirs) {
        if (this.files.has(d)) return { stdout: '', stderr: `mkdir: cannot create directory '${d}': File exists\n`, code: 1 };
        this.mkdirP(d);
      }
      return ok();
    }
    if ((m = /^rm -f -- (.+)$/.exec(cmd))) {
      const paths = quotedWords(m[1]!);
      if (!paths) return undefined;
      for (const p of paths) this.files.delete(p);
      return ok();
    }
    if ((m = /^chmod (0[0-7]{3,4}) (.+)$/.exec(cmd))) {
      const [path] = quotedWords(m[2]!) ?? [];
      if (path === undefined) return undefined;
      const f = this.touch(path);
      if (!f) return { stdout: '', stderr: `chmod: cannot access '${path}': No such file or directory\n`, code: 1 };
      f.mode = parseInt(m[1]!, 8);
      return ok();
    }
    if ((m = /^systemctl enable (\S+)$/.exec(cmd))) {
      const [name] = quotedWords(m[1]!) ?? [];
      if (name === undefined) return undefined;
      if (!this.unitFileExists(name)) return { stdout: '', stderr: `Failed to enable unit: Unit file ${name} does not exist.\n`, code: 1 };
      this.unit(name).enabled = true;
      return { stdout: '', stderr: `Created symlink /etc/systemd/system/multi-user.target.wants/${name} → /etc/systemd/system/${name}.\n`, code: 0 };
    }
    if ((m = /^systemctl disable --now -- (\S+)$/.exec(cmd))) {
      const [name] = quotedWords(m[1]!) ?? [];
      if (name === undefined) return undefined;
      const u = this.unit(name);
      Object.assign(u, { enabled: false, active: false, failed: false, mainPid: 0 });
      return ok();
    }
    if (/^rmdir -- .* 2>\/dev\/null; true$/.test(cmd)) {
      const parts = cmd.slice(0, -'; true'.length).split('; ');
      for (const p of parts) {
        const r = /^rmdir -- (\S+) 2>\/dev\/null$/.exec(p);
        const [d] = r ? (quotedWords(r[1]!) ?? []) : [];
        if (d === undefined) return undefined;
        const busy = [...this.files.keys(), ...this.dirs].some((x) => x !== d && x.startsWith(`${d}/`));
        if (!busy) this.dirs.delete(d);
      }
      return ok();
    }
    const statHead = `LC_ALL=C stat -c '${STAT_FORMAT}' -- `;
    if (cmd.startsWith(statHead) && cmd.endsWith(' 2>/dev/null; true')) {
      const paths = quotedWords(cmd.slice(statHead.length, -' 2>/dev/null; true'.length));
      if (!paths) return undefined;
      return ok(paths.flatMap((p) => this.statLine(p) ?? []).map((l) => `${l}\n`).join(''));
    }
    if ((m = /^systemctl restart (\S+) >\/dev\/null 2>&1\n([^]*)$/.exec(cmd))) {
      const [name] = quotedWords(m[1]!) ?? [];
      const polls = /while \[ \$i -lt (\d+) \]/.exec(m[2]!)?.[1];
      const settle = /sleep ([\d.]+); s=\$\(systemctl/.exec(m[2]!)?.[1];
      if (name === undefined || polls === undefined) return undefined;
      const settleSec = settle === undefined ? 0 : Number(settle);
      if (waitActiveScript(name, Number(polls) / 4, settleSec) !== m[2]) return undefined;
      const started = this.restart(name);
      // the script's settle wait: a real host spends it too
      if (started && settleSec > 0) await new Promise((r) => setTimeout(r, settleSec * 1000));
      if (started) return ok();
      const state = this.unitFileExists(name) ? 'failed' : 'inactive';
      return { stdout: `@state ${state}\n-- journal of the ssh harness (TEST DOUBLE) for ${name} --\n${name}: exited with status 1 (a fault the test set)\n`, stderr: '', code: 1 };
    }
    return undefined;
  }

  /** The gather script: rebuilt from what it names, compared byte for byte, then answered. */
  private gather(script: string): ExecResult | undefined {
    const paths = /^S=\$\(stat -c '[^']*' -- (.+) 2>\/dev\/null\)$/m.exec(script)?.[1];
    const binDir = /^d=(\S+); while \[ ! -d "\$d" \]/m.exec(script)?.[1];
    const units = /^echo @units; systemctl show --no-pager -p \S+ -- (.*) \$U 2>\/dev\/null$/m.exec(script)?.[1];
    const checksum = script.includes('awk -v m="/dev/null"');
    const pathList = paths === undefined ? [] : quotedWords(paths);
    const unitList = units === undefined ? [] : quotedWords(units);
    const [bin] = binDir === undefined ? [] : (quotedWords(binDir) ?? []);
    const dirList = quotedWords(/^echo @dirs; for d in (.+?); do \[ -d/m.exec(script)?.[1] ?? '');
    const tempDirList = quotedWords(/^echo @tmp; find (.+?) -maxdepth 1 -name/m.exec(script)?.[1] ?? '');
    if (!pathList || !unitList || bin === undefined || !dirList || !tempDirList) return undefined;
    const firstBinary = pathList.find((p) => posix.dirname(p) === bin);
    const desired = {
      name: this.name,
      files: pathList.map((path) => ({ path })),
      binaries: firstBinary ? [{ path: firstBinary }] : [],
      units: unitList.map((name) => ({ name })),
    } as unknown as RenderedHost;
    if (gatherScript(desired, { checksum }) !== script) return undefined;

    const manifest = this.files.get(MANIFEST_PATH)?.data?.toString('utf8');
    const out: string[] = [];
    const free = 40_000_000 - Math.floor([...this.files.values()].reduce((n, f) => n + f.size, 0) / 1024);
    let d = bin;
    while (!this.dirs.has(d)) d = posix.dirname(d);
    out.push('@arch x86_64', '@os debian 12', '@systemd systemd 252 (252.30-1~deb12u2)', `@df ${free}`,
      `@epoch ${Math.floor(Date.now() / 1000)}`, '@swap 0', '@brnf yes', '@overlay yes', `@ipforward ${this.ipForward ? 1 : 0}`, '@cgroupfs tmpfs', '@ntp no',
      `@dfbin ${free} ${d}`, '@port10250 ', `@kubeletpid ${this.units.get('kubelet.service')?.mainPid ?? 0}`, '@hasher openssl', '@manifest');
    if (manifest !== undefined) out.push(`${manifest}`);
    out.push('@present');
    const manifestPaths = manifest === undefined ? [] : [...manifest.matchAll(/^\{"path":"([^"]*)"/gm)].map((x) => x[1]!);
    for (const p of manifestPaths) if (this.files.has(p) || this.dirs.has(p)) out.push(p);
    const statLines = pathList.flatMap((p) => this.statLine(p) ?? []);
    out.push('@stat', statLines.join('\n'), '@sha');
    const known = checksum || manifest === undefined ? '' : manifest.split('\n').map((l) => `${l}\n`).join('');
    for (const line of statLines) {
      if (known.includes(line)) continue;
      const p = line.slice('{"path":"'.length, line.indexOf('","inode":'));
      out.push(`${this.files.get(p)!.sha256} *${p}`);
    }
    out.push('@dirs');
    for (const dir of dirList) if (!this.dirs.has(dir)) out.push(dir);
    out.push('@tmp');
    for (const dir of tempDirList) {
      for (const p of this.files.keys()) if (posix.dirname(p) === dir && posix.basename(p).startsWith('.') && p.includes('.kw-tmp-')) out.push(p);
    }
    out.push('@units');
    const fromManifest = /"units":\[([^\]]*)\]/.exec(manifest?.split('\n')[0] ?? '')?.[1]?.replaceAll('"', '').split(',').filter(Boolean) ?? [];
    out.push([...unitList, ...fromManifest].map((u) => this.showUnit(u)).join('\n\n'));
    out.push('@end');
    return { stdout: `${out.join('\n')}\n`, stderr: '', code: 0 };
  }

  private write(sftp: SFTPWrapper, id: number, w: { node: FileNode; hash: Hash; chunks: Buffer[] | undefined; closed?: boolean }, offset: number, data: Buffer, fail: (id: number, code: number, why: string) => void): void {
    if (w.closed) return fail(id, STATUS_CODE.FAILURE, 'write after close');
    if (offset !== w.node.size) return fail(id, STATUS_CODE.FAILURE, `write at ${offset}, expected ${w.node.size} (the harness takes writes in order)`);
    w.hash.update(data);
    w.node.size += data.length;
    if (w.chunks) {
      w.chunks.push(Buffer.from(data));
      if (w.node.size > KEEP_BYTES) w.chunks = undefined;
    }
    w.node.mtime = w.node.ctime = nowStamp();
    sftp.status(id, STATUS_CODE.OK);
  }

  /** Serves SFTP for one session (kubewright's atomic writes and reads). */
  serveSftp(sftp: SFTPWrapper): void {
    interface Handle {
      path: string;
      write?: { node: FileNode; hash: Hash; chunks: Buffer[] | undefined; closed?: boolean };
      read?: Buffer;
    }
    const handles = new Map<number, Handle>();
    let nextHandle = 1;
    const handleOf = (b: Buffer): Handle | undefined => (b.length === 4 ? handles.get(b.readUInt32BE(0)) : undefined);
    const fail = (id: number, code: number, why: string): void => {
      this.harness.unrecognised.push(`${this.name}: sftp: ${why}`);
      sftp.status(id, code, why);
    };
    sftp.on('OPEN', (id, path, flags, attrs) => {
      const h = nextHandle++;
      const b = Buffer.alloc(4);
      b.writeUInt32BE(h, 0);
      if (flags === OPEN_MODE.READ) {
        const f = this.files.get(path);
        if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
        if (!f.data) return fail(id, STATUS_CODE.FAILURE, `read of ${path}: the harness keeps only the sha256 of files over 1 MiB`);
        handles.set(h, { path, read: f.data });
        return sftp.handle(id, b);
      }
      const want = OPEN_MODE.WRITE | OPEN_MODE.CREAT | OPEN_MODE.EXCL;
      if ((flags & want) !== want) return fail(id, STATUS_CODE.OP_UNSUPPORTED, `open ${path} with flags ${flags}`);
      if (!this.dirs.has(posix.dirname(path))) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      if (this.files.has(path)) return sftp.status(id, STATUS_CODE.FAILURE);
      const node = this.newFile((attrs.mode ?? 0o644) & ~0o022);
      this.files.set(path, node);
      handles.set(h, { path, write: { node, hash: createHash('sha256'), chunks: [] } });
      this.commands.push(`sftp write ${path}`);
      sftp.handle(id, b);
    });
    sftp.on('WRITE', (id, handle, offset, data) => {
      const h = handleOf(handle);
      const w = h?.write;
      if (!w) return fail(id, STATUS_CODE.FAILURE, 'write to a handle not open for writing');
      const hold = this.faults.beforeWrite?.(h.path, offset);
      if (hold) {
        const copy = Buffer.from(data);
        void hold.then(() => this.write(sftp, id, w, offset, copy, fail)).catch((e: unknown) => fail(id, STATUS_CODE.FAILURE, `held write: ${String(e)}`));
        return;
      }
      this.write(sftp, id, w, offset, data, fail);
    });

    sftp.on('READ', (id, handle, offset, length) => {
      const r = handleOf(handle)?.read;
      if (!r) return fail(id, STATUS_CODE.FAILURE, 'read from a handle not open for reading');
      if (offset >= r.length) return sftp.status(id, STATUS_CODE.EOF);
      sftp.data(id, r.subarray(offset, offset + length));
    });
    sftp.on('FSTAT', (id, handle) => {
      const h = handleOf(handle);
      const f = h && this.files.get(h.path);
      if (!f) return fail(id, STATUS_CODE.FAILURE, 'fstat of an unknown handle');
      sftp.attrs(id, { mode: 0o100000 | f.mode, uid: 0, gid: 0, size: f.size, atime: Math.floor(Number(f.mtime)), mtime: Math.floor(Number(f.mtime)) });
    });
    sftp.on('FSETSTAT', (id, handle, attrs) => {
      const w = handleOf(handle)?.write;
      if (!w || attrs.mode === undefined || Object.entries(attrs).some(([k, v]) => k !== 'mode' && v !== undefined)) return fail(id, STATUS_CODE.OP_UNSUPPORTED, `fsetstat ${JSON.stringify(attrs)}`);
      w.node.mode = attrs.mode & 0o7777;
      w.node.ctime = nowStamp();
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('CLOSE', (id, handle) => {
      const h = handleOf(handle);
      if (!h) return sftp.status(id, STATUS_CODE.FAILURE);
      if (h.write) {
        h.write.closed = true;
        h.write.node.sha256 = h.write.hash.digest('hex');
        h.write.node.data = h.write.chunks ? Buffer.concat(h.write.chunks) : undefined;
      }
      handles.delete(handle.readUInt32BE(0));
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('REMOVE', (id, path) => {
      if (!this.files.delete(path)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      sftp.status(id, STATUS_CODE.OK);
    });
    sftp.on('EXTENDED', (id, name, data) => {
      const str = (b: Buffer, at: number): [string, number] => {
        const n = b.readUInt32BE(at);
        return [b.subarray(at + 4, at + 4 + n).toString('utf8'), at + 4 + n];
      };
      if (name === 'fsync@openssh.com') return sftp.status(id, STATUS_CODE.OK);
      if (name === 'posix-rename@openssh.com' && data) {
        const [from, at] = str(data, 0);
        const [to] = str(data, at);
        const f = this.files.get(from);
        if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
        if (!this.dirs.has(posix.dirname(to))) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
        this.files.delete(from);
        f.ctime = nowStamp();
        this.files.set(to, f);
        this.commands.push(`sftp rename ${from} ${to}`);
        return sftp.status(id, STATUS_CODE.OK);
      }
      fail(id, STATUS_CODE.OP_UNSUPPORTED, `extension ${name}`);
    });
    for (const op of ['OPENDIR', 'READDIR', 'LSTAT', 'STAT', 'SETSTAT', 'MKDIR', 'RMDIR', 'REALPATH', 'READLINK', 'SYMLINK', 'RENAME']) {
      sftp.on(op as 'STAT', (id: number) => fail(id, STATUS_CODE.OP_UNSUPPORTED, `${op} (kubewright does not send it)`));
    }
  }
}

// The VERSION packet OpenSSH's sftp-server sends (version 3 and the extensions kubewright's
// client checks for); ssh2's server sends none, and its client then refuses posix-rename/fsync.
const VERSION_PLAIN = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);
function versionWithExtensions(): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [k, v] of [['posix-rename@openssh.com', '1'], ['fsync@openssh.com', '1']] as const) {
    for (const s of [k, v]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(Buffer.byteLength(s), 0);
      parts.push(len, Buffer.from(s));
    }
  }
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** Makes this SFTP session's VERSION answer advertise the extensions (a Proxy over its protocol object). */
function advertiseExtensions(sftp: SFTPWrapper): void {
  const s = sftp as unknown as { _protocol: Record<string | symbol, unknown> & { channelData(id: number, d: Buffer): void } };
  const proto = s._protocol;
  const version = versionWithExtensions();
  s._protocol = new Proxy(proto, {
    get(target, prop) {
      if (prop === 'channelData') return (id: number, d: Buffer) => target.channelData(id, d.equals(VERSION_PLAIN) ? version : d);
      const v = target[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export interface SshHarnessOptions {
  /** host names (default `<prefix>1..count`) */
  count: number;
  prefix?: string;
  /** the client's public key in OpenSSH format; generated when absent (see `clientKey`) */
  clientPublicKey?: string;
}

/** N SSH hosts in this process. */
export class SshHarness {
  readonly hosts: HarnessHost[] = [];
  /** commands and SFTP requests the harness did not recognise (each also failed the request) */
  readonly unrecognised: string[] = [];
  /** connections open now, the most open at once, and all accepted */
  connections = { open: 0, max: 0, total: 0 };
  readonly clientKey: { private: string; public: string };
  private readonly clients = new Set<Connection>();
  private readonly allowed: ReturnType<typeof utils.parseKey>;

  private constructor(opts: SshHarnessOptions) {
    if (opts.clientPublicKey) this.clientKey = { private: '', public: opts.clientPublicKey };
    else {
      const k = generateHostKey('kubewright-harness-client');
      this.clientKey = { private: k.privateKey, public: k.publicKey };
    }
    const parsed = utils.parseKey(this.clientKey.public);
    if (parsed instanceof Error) throw parsed;
    this.allowed = parsed;
    for (let i = 1; i <= opts.count; i++) this.hosts.push(new HarnessHost(`${opts.prefix ?? 'sh'}${i}`, this));
  }

  static async start(opts: SshHarnessOptions): Promise<SshHarness> {
    const h = new SshHarness(opts);
    try {
      for (const host of h.hosts) await h.listen(host);
    } catch (e) {
      await h.stop();
      throw e;
    }
    return h;
  }

  /** known_hosts lines for every host */
  knownHosts(): string {
    return this.hosts.map((h) => `${h.knownHostsLine}\n`).join('');
  }

  /** Writes the client's private key (0600) and a known_hosts of every host into `dir`. */
  async writeClientFiles(dir: string): Promise<{ privateKeyPath: string; knownHostsPath: string }> {
    const privateKeyPath = join(dir, 'harness_client_key');
    const knownHostsPath = join(dir, 'harness_known_hosts');
    if (this.clientKey.private) await writeFile(privateKeyPath, this.clientKey.private, { mode: 0o600 });
    await writeFile(knownHostsPath, this.knownHosts());
    return { privateKeyPath, knownHostsPath };
  }

  resetConnectionCount(): void {
    this.connections = { open: this.connections.open, max: this.connections.open, total: 0 };
  }

  private listen(host: HarnessHost): Promise<void> {
    const allowed = this.allowed as Exclude<ReturnType<typeof utils.parseKey>, Error | unknown[]>;
    // Debian 12's banner: ssh2's client then uses OpenSSH's SFTP packet limits, as with a real host
    const server = new Server({ hostKeys: [host.hostKey.private], ident: 'OpenSSH_9.2p1 Debian-2+deb12u3' }, (client: Connection) => {
      if (host.faults.refuse) {
        client.end();
        return;
      }
      const c = this.connections;
      c.open++;
      c.total++;
      c.max = Math.max(c.max, c.open);
      this.clients.add(client);
      client.once('close', () => {
        this.connections.open--;
        this.clients.delete(client);
      });
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.username !== 'root' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject(['publickey']);
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the key query before the signed request
        if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
        ctx.accept();
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('exec', (acceptExec, _reject, info) => {
            const stream: ServerChannel = acceptExec();
            stream.on('data', () => undefined);
            void (async () => {
              host.commands.push(info.command.startsWith('export LC_ALL=C\n') ? 'gather' : info.command);
              let r = await host.exec(info.command).catch((e: unknown): ExecResult => ({ stdout: '', stderr: `ssh harness: ${String(e)}\n`, code: 98 }));
              if (!r) {
                this.unrecognised.push(`${host.name}: ${info.command}`);
                r = { stdout: '', stderr: `ssh harness (TEST DOUBLE): unrecognised command (kubewright sends something new? teach test/support/ssh-harness.ts):\n${info.command}\n`, code: 97 };
              }
              if (r.stdout) stream.write(r.stdout);
              if (r.stderr) stream.stderr.write(r.stderr);
              stream.exit(r.code);
              stream.end();
            })();
          });
          session.on('sftp', (acceptSftp) => {
            const sftp = acceptSftp();
            advertiseExtensions(sftp);
            host.serveSftp(sftp);
          });
        });
      });
    });
    host.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        host.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.end();
    // ssh2's Server has no `listening`; close() on one that never listened calls back with an error
    await Promise.all(this.hosts.map((h) => new Promise<void>((resolve) => (h.server ? h.server.close(() => resolve()) : resolve()))));
  }
}

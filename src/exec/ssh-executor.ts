// Executor over one reused ssh2 connection per host: commands on exec channels, files over
// SFTP written atomically, host keys checked against known_hosts before anything is sent.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { CommandError, type CommandResult } from './command-result.ts';
import type { ExecOptions, Executor, PutFile } from './executor.ts';
import { appendKnownHost, checkHostKey, hostKeyAlgorithms, hostKeyFingerprint, keyTypeOf, knownHostsName, pinnedKeyTypes, readKnownHosts } from './known-hosts.ts';
import { shellQuote } from './shell-quote.ts';
import { HostKeyError, SshConnectionError } from './ssh-errors.ts';
import { tempPathFor } from './temp-name.ts';
import { traced } from '../trace.ts';

/** A command on one line, cut at 300 characters, for -v. */
function oneLine(cmd: string): string {
  const flat = cmd.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

export interface SshTarget {
  /** host name for messages */
  name: string;
  address: string;
  port: number;
  user: string;
}

export interface SshOptions {
  privateKey: string | Buffer;
  knownHostsPath: string;
  /** trust and record keys of hosts not yet in known_hosts (a changed key is still refused) */
  acceptNewHostKeys?: boolean;
  /** false: an accepted new key is trusted for this connection only and reported in `unrecordedHostKey` (plan changes nothing) */
  recordNewHostKeys?: boolean;
  /** run commands through `sudo -n` and stream files to a root shell's stdin; defaults to true for users other than root */
  sudo?: boolean;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** default timeout of each command */
  commandTimeoutMs?: number;
}

interface RawResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

// SFTP servers accept up to 32 KiB per write in practice (OpenSSH: 256 KiB, but ssh2 caps packets)
const writeChunk = 32 * 1024;
const writesInFlight = 32;
const sftpNoSuchFile = 2;

export class SshExecutor implements Executor {
  readonly host: string;
  /** user@address:port, for -v lines */
  private readonly where: string;
  unrecordedHostKey: { keyType: string; fingerprint: string } | undefined;
  private readonly user: string;
  private readonly client: Client;
  private readonly sudo: boolean;
  private readonly commandTimeoutMs: number;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private closedError: Error | undefined;
  private readonly onClose = new Set<(e: Error) => void>();

  private constructor(target: SshTarget, client: Client, opts: SshOptions) {
    this.host = target.name;
    this.where = `${target.user}@${target.address}:${target.port}`;
    this.user = target.user;
    this.client = client;
    this.sudo = opts.sudo ?? target.user !== 'root';
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 10 * 60_000;
    client.on('close', () => {
      const e = new SshConnectionError(this.host, 'ssh connection closed', 'check that the host is up and sshd is running, then re-run');
      this.closedError ??= e;
      for (const f of this.onClose) f(e);
      this.onClose.clear();
    });
    client.on('error', () => {
      // reported through 'close' and the pending operation
    });
  }

  /** Connects, verifying the host key against known_hosts first. */
  static connect(target: SshTarget, opts: SshOptions): Promise<SshExecutor> {
    return traced(() => `${target.name}: ssh ${target.user}@${target.address}:${target.port}: connect`, () => SshExecutor.connectOnce(target, opts));
  }

  private static async connectOnce(target: SshTarget, opts: SshOptions): Promise<SshExecutor> {
    const name = knownHostsName(target.address, target.port);
    const knownText = await readKnownHosts(opts.knownHostsPath);
    // offer only the pinned key types: a host pinned as ed25519 that has an ECDSA key too is then
    // verified by its ed25519 key, and an impostor with another type fails the handshake
    const pinned = pinnedKeyTypes(knownText, name);
    const serverHostKey = hostKeyAlgorithms(pinned);
    let refusal: HostKeyError | undefined;
    let accepted: Buffer | undefined;
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      const errors: (Error & { level?: string })[] = [];
      // one failure may raise several errors (the handshake's verdict, then the socket's reset, in
      // either order): decide once the connection has closed, from all of them
      const fail = (): void => {
        if (refusal) return reject(refusal);
        if (serverHostKey.length > 0 && errors.some((e) => /no matching host key/i.test(e.message))) {
          return reject(hostKeyRefusal(target, name, opts.knownHostsPath, { kind: 'changed', line: 0, pinnedTypes: pinned }, 'offers none of them'));
        }
        const first = errors[0];
        // a connection dropped during the handshake may close without an 'error'
        reject(first ? connectError(target, first) : new SshConnectionError(target.name, `ssh connection to ${target.user}@${target.address}:${target.port} closed during the handshake`, 'check that the host is up and sshd is running, then re-run'));
      };
      client.once('ready', () => resolve());
      client.on('error', (e: Error & { level?: string }) => {
        errors.push(e);
        if (errors.length === 1) setTimeout(fail, 1_000).unref();
      });
      client.once('close', fail);
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey: opts.privateKey,
        readyTimeout: opts.readyTimeoutMs ?? 20_000,
        keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
        keepaliveCountMax: opts.keepaliveCountMax ?? 3,
        ...(serverHostKey.length > 0 ? { algorithms: { serverHostKey: serverHostKey as never } } : {}),
        hostVerifier: (key: Buffer) => {
          const verdict = checkHostKey(knownText, name, key);
          if (verdict.kind === 'known') return true;
          if (verdict.kind === 'unknown' && opts.acceptNewHostKeys) {
            accepted = key;
            return true;
          }
          refusal = hostKeyRefusal(target, name, opts.knownHostsPath, verdict, keyTypeOf(key));
          return false;
        },
      });
    });
    const recordNew = opts.recordNewHostKeys ?? true;
    if (accepted && recordNew) await appendKnownHost(opts.knownHostsPath, name, accepted);
    const x = new SshExecutor(target, client, opts);
    if (accepted && !recordNew) x.unrecordedHostKey = { keyType: keyTypeOf(accepted), fingerprint: hostKeyFingerprint(accepted) };
    return x;
  }

  async exec(cmd: string, opts: ExecOptions = {}): Promise<CommandResult> {
    const raw = await traced(() => `${this.host}: ssh ${this.where}: ${oneLine(cmd)}`, () => this.run(cmd, opts), (r) => `exit ${r.code}`);
    const result = { command: cmd, stdout: raw.stdout.toString('utf8'), stderr: raw.stderr.toString('utf8'), code: raw.code };
    if (result.code !== 0 && !opts.allowFailure) throw new CommandError(this.host, result, this.sudo ? sudoRefusalHint(this.user, result) : undefined);
    return result;
  }

  async put(file: PutFile): Promise<void> {
    const data = typeof file.contents === 'string' ? Buffer.from(file.contents, 'utf8') : Buffer.from(file.contents);
    await traced(() => `${this.host}: ssh ${this.where}: write ${file.path} (${data.length} bytes)`, () => this.writeAtomic(file.path, file.mode, (async function* () {
      for (let i = 0; i < data.length; i += writeChunk) yield data.subarray(i, i + writeChunk);
    })(), data.length));
  }

  async upload(localPath: string, remotePath: string, mode: number): Promise<void> {
    const { size } = await stat(localPath);
    await traced(() => `${this.host}: ssh ${this.where}: upload ${remotePath} (${size} bytes)`, () => this.writeAtomic(remotePath, mode, createReadStream(localPath, { highWaterMark: writeChunk }), size));
  }

  async read(path: string): Promise<Buffer | undefined> {
    if (this.sudo) {
      const r = await this.run(`if [ -e ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else exit 44; fi`, {});
      if (r.code === 44) return undefined;
      if (r.code !== 0) {
        const result = { command: `cat ${path}`, stdout: '', stderr: r.stderr.toString(), code: r.code };
        throw new CommandError(this.host, result, sudoRefusalHint(this.user, result));
      }
      return r.stdout;
    }
    const sftp = await this.sftp();
    return this.guard(
      new Promise<Buffer | undefined>((resolve, reject) => {
        sftp.readFile(path, (err, buf) => {
          if (err) return (err as Error & { code?: number }).code === sftpNoSuchFile ? resolve(undefined) : reject(this.sftpError('read', path, err));
          resolve(buf);
        });
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closedError) return;
    await new Promise<void>((resolve) => {
      this.onClose.add(() => resolve());
      this.client.end();
      setTimeout(resolve, 2_000).unref();
    });
  }

  /** Rejects when the connection drops before `p` settles. */
  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.closedError) {
      // `p` already ran (and fails: "Not connected"); its rejection is this one
      p.catch(() => undefined);
      return Promise.reject(this.closedError);
    }
    return new Promise<T>((resolve, reject) => {
      const onClose = (e: Error): void => reject(e);
      this.onClose.add(onClose);
      p.then(resolve, reject).finally(() => this.onClose.delete(onClose));
    });
  }

  private wrap(cmd: string, noSudo: boolean | undefined): string {
    return this.sudo && !noSudo ? `sudo -n sh -c ${shellQuote(cmd)}` : cmd;
  }

  private run(cmd: string, opts: ExecOptions & { noSudo?: boolean }): Promise<RawResult> {
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return this.guard(
      new Promise<RawResult>((resolve, reject) => {
        this.client.exec(this.wrap(cmd, opts.noSudo), (err: Error | undefined, stream: ClientChannel) => {
          if (err) return reject(new SshConnectionError(this.host, `cannot run a command: ${err.message}`, 'check the connection and re-run', err));
          const out: Buffer[] = [];
          const errs: Buffer[] = [];
          const timer = setTimeout(() => {
            stream.close();
            reject(new CommandError(this.host, { command: cmd, stdout: Buffer.concat(out).toString(), stderr: `timed out after ${timeoutMs} ms`, code: -1 }, 'the command did not finish in time; check the host'));
          }, timeoutMs);
          stream.on('data', (d: Buffer) => out.push(d));
          stream.stderr.on('data', (d: Buffer) => errs.push(d));
          stream.on('close', (code: number | null | undefined) => {
            clearTimeout(timer);
            resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(errs), code: typeof code === 'number' ? code : -1 });
          });
          stream.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
        });
      }),
    );
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.guard(
      new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, s) => (err ? reject(new SshConnectionError(this.host, `cannot open an sftp session: ${err.message}`, 'enable the sftp subsystem in sshd_config', err)) : resolve(s)));
      }),
    );
    return this.sftpSession;
  }

  private sftpError(op: string, path: string, err: Error): Error {
    if (this.closedError) return this.closedError;
    return new SshConnectionError(this.host, `sftp ${op} ${path}: ${err.message}`, 'check the path and the permissions of its directory', err);
  }

  private async writeAtomic(target: string, mode: number, chunks: AsyncIterable<Buffer>, size: number): Promise<void> {
    if (this.sudo) {
      // the login user cannot write /etc: the bytes go through the command's stdin into a root-owned
      // 0600 temp file beside the target, so a secret never rests in /tmp; a connection dropped
      // mid-stream leaves a short temp file, which the size check catches and removes
      const tmp = tempPathFor(target);
      const q = shellQuote;
      const script = [
        `mkdir -p -m 0755 ${q(posix.dirname(target))}`,
        'umask 077',
        `if cat > ${q(tmp)} && [ "$(wc -c < ${q(tmp)} | tr -d ' ')" = ${size} ] && chown 0:0 ${q(tmp)} && chmod ${mode.toString(8)} ${q(tmp)} && sync ${q(tmp)} && mv -f ${q(tmp)} ${q(target)}; then exit 0; fi`,
        `rm -f ${q(tmp)}`,
        `echo "kubewright: ${target.replaceAll('"', '')}: not installed (incomplete input or a failed step)" >&2`,
        'exit 1',
      ].join('\n');
      const raw = await this.runStreaming(script, chunks);
      if (raw.code !== 0) {
        const result = { command: `install ${target}`, stdout: raw.stdout.toString(), stderr: raw.stderr.toString(), code: raw.code };
        throw new CommandError(this.host, result, sudoRefusalHint(this.user, result));
      }
      return;
    }
    const sftp = await this.sftp();
    const tmp = tempPathFor(target);
    try {
      await this.sftpWrite(sftp, tmp, mode, chunks);
      await this.guard(
        new Promise<void>((resolve, reject) => sftp.ext_openssh_rename(tmp, target, (err) => (err ? reject(this.sftpError('rename', target, err)) : resolve()))),
      );
    } catch (e) {
      if (!this.closedError) await new Promise<void>((resolve) => sftp.unlink(tmp, () => resolve()));
      throw e;
    }
  }

  /** Runs `cmd` (through sudo in sudo mode) with `chunks` streamed to its stdin, honouring back-pressure. */
  private runStreaming(cmd: string, chunks: AsyncIterable<Buffer>): Promise<RawResult> {
    const timeoutMs = this.commandTimeoutMs;
    return this.guard(
      new Promise<RawResult>((resolve, reject) => {
        this.client.exec(this.wrap(cmd, false), (err: Error | undefined, stream: ClientChannel) => {
          if (err) return reject(new SshConnectionError(this.host, `cannot run a command: ${err.message}`, 'check the connection and re-run', err));
          const out: Buffer[] = [];
          const errs: Buffer[] = [];
          let closed = false;
          const timer = setTimeout(() => {
            stream.close();
            reject(new CommandError(this.host, { command: 'install', stdout: '', stderr: `timed out after ${timeoutMs} ms`, code: -1 }, 'the transfer did not finish in time; check the host'));
          }, timeoutMs);
          stream.on('data', (d: Buffer) => out.push(d));
          stream.stderr.on('data', (d: Buffer) => errs.push(d));
          stream.on('close', (code: number | null | undefined) => {
            closed = true;
            clearTimeout(timer);
            resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(errs), code: typeof code === 'number' ? code : -1 });
          });
          void (async () => {
            for await (const chunk of chunks) {
              if (closed) return;
              if (!stream.write(chunk)) {
                await new Promise<void>((r) => {
                  stream.once('drain', r);
                  stream.once('close', r);
                });
              }
            }
            if (!closed) stream.end();
          })().catch((e: unknown) => {
            // a local read error: close the channel so the remote side sees a short input and cleans up
            stream.close();
            reject(e instanceof Error ? e : new Error(String(e)));
          });
        });
      }),
    );
  }

  /** Creates `path` exclusively and writes it, fsynced and chmodded; the parent dir is created when missing. */
  private async sftpWrite(sftp: SFTPWrapper, path: string, mode: number, chunks: AsyncIterable<Buffer>): Promise<void> {
    const open = (): Promise<Buffer> =>
      this.guard(new Promise<Buffer>((resolve, reject) => sftp.open(path, 'wx', { mode }, (err, h) => (err ? reject(err) : resolve(h)))));
    let handle: Buffer;
    try {
      handle = await open();
    } catch (e) {
      if ((e as { code?: number }).code !== sftpNoSuchFile) throw this.sftpError('open', path, e as Error);
      await this.exec(`mkdir -p -m 0755 ${shellQuote(posix.dirname(path))}`);
      handle = await open().catch((e2: Error) => Promise.reject(this.sftpError('open', path, e2)));
    }
    const call = (f: (cb: (err: Error | undefined | null) => void) => void, op: string): Promise<void> =>
      this.guard(new Promise<void>((resolve, reject) => f((err) => (err ? reject(this.sftpError(op, path, err)) : resolve()))));
    try {
      let offset = 0;
      const pending = new Set<Promise<void>>();
      for await (const chunk of chunks) {
        const at = offset;
        offset += chunk.length;
        const p = call((cb) => sftp.write(handle, chunk, 0, chunk.length, at, cb), 'write');
        pending.add(p);
        void p.catch(() => undefined).finally(() => pending.delete(p));
        if (pending.size >= writesInFlight) await Promise.race(pending);
      }
      await Promise.all(pending);
      await call((cb) => sftp.ext_openssh_fsync(handle, (err) => cb(err)), 'fsync');
      // the open mode is reduced by the server's umask
      await call((cb) => sftp.fchmod(handle, mode, cb), 'chmod');
    } finally {
      if (!this.closedError) await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
    }
  }
}

/** How to fix it when `sudo -n` itself refused to run a command (rather than the command failing). */
function sudoRefusalHint(user: string, r: CommandResult): string | undefined {
  if (r.code === 1 && /^sudo: .*(password is required|terminal is required|not in the sudoers|not allowed)/m.test(r.stderr)) {
    return `give ${user} passwordless sudo (a line "${user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/, checked with visudo -cf) or set ssh.user to root`;
  }
  if (r.code === 127 && /sudo: (command )?not found/.test(r.stderr)) return `install sudo on the host, or set ssh.user to root`;
  return undefined;
}

function connectError(target: SshTarget, e: Error & { level?: string; code?: string }): SshConnectionError {
  const where = `${target.user}@${target.address}:${target.port}`;
  if (e.level === 'client-authentication') {
    return new SshConnectionError(target.name, `ssh authentication as ${where} failed`, 'check ssh.user and ssh.privateKeyPath, and that the public key is in the host\'s authorized_keys', e);
  }
  if (e.level === 'client-timeout') {
    return new SshConnectionError(target.name, `ssh connect to ${where} timed out`, 'check the address, the port and any firewall', e);
  }
  return new SshConnectionError(target.name, `ssh connect to ${where} failed: ${e.code ?? e.message}`, 'check that the host is up and sshd listens on that port', e);
}

type RefusedVerdict = { kind: 'unknown' } | { kind: 'changed'; line: number; pinnedTypes: string[] } | { kind: 'revoked'; line: number };

/** `presented`: the type of the key the host showed, or why it showed none. */
function hostKeyRefusal(target: SshTarget, name: string, file: string, verdict: RefusedVerdict, presented: string): HostKeyError {
  switch (verdict.kind) {
    case 'unknown':
      return new HostKeyError(target.name, `host key of ${name} is not in ${file}; refusing to connect`, 'unknown',
        `add the key to ${file} (ssh-keyscan -p ${target.port} ${target.address}, after checking it) or pass --accept-new-host-keys`);
    case 'changed': {
      const where = verdict.line > 0 ? `${file}:${verdict.line}` : file;
      const what = presented === 'offers none of them' ? 'the host offers none of them' : `the host presented a different ${presented} key`;
      return new HostKeyError(target.name, `host key of ${name} does not match ${where}, which pins ${verdict.pinnedTypes.join(', ')}: ${what} (it changed: possible man-in-the-middle, or the address was reused); refusing to connect, with or without --accept-new-host-keys`, 'changed',
        `if the host was really re-created, delete its lines from ${file} (ssh-keygen -R '${name}' -f ${file}) and re-run`);
    }
    case 'revoked':
      return new HostKeyError(target.name, `host key of ${name} is marked @revoked in ${file}:${verdict.line ?? 0}; refusing to connect`, 'revoked',
        'the key was revoked on purpose; re-create the host with a new key');
  }
}

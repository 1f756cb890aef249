// The Executor for this machine (lab hosts, tests): commands through `sh -c`, files written with
// the same temp-file + fsync + rename discipline as over SFTP.
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runLocal, type CommandResult } from './command-result.ts';
import type { ExecOptions, Executor, PutFile } from './executor.ts';
import { tempPathFor } from './temp-name.ts';

export interface LocalOptions {
  /** host name for messages */
  name?: string;
  /** extra environment for commands */
  env?: Record<string, string>;
}

export class LocalExecutor implements Executor {
  readonly host: string;
  private readonly env: Record<string, string>;

  constructor(opts: LocalOptions = {}) {
    this.host = opts.name ?? 'localhost';
    this.env = opts.env ?? {};
  }

  exec(cmd: string, opts: ExecOptions = {}): Promise<CommandResult> {
    return runLocal(['sh', '-c', cmd], { ...opts, command: cmd, host: this.host, env: { ...process.env, ...this.env } });
  }

  async put(file: PutFile): Promise<void> {
    const data = typeof file.contents === 'string' ? Buffer.from(file.contents, 'utf8') : file.contents;
    await this.writeAtomic(file.path, file.mode, async (fh) => {
      await fh.writeFile(data);
    });
  }

  async upload(localPath: string, remotePath: string, mode: number): Promise<void> {
    await this.writeAtomic(remotePath, mode, async (fh) => {
      for await (const chunk of createReadStream(localPath)) await fh.write(chunk as Buffer);
    });
  }

  async read(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {}

  private async writeAtomic(target: string, mode: number, fill: (fh: import('node:fs/promises').FileHandle) => Promise<void>): Promise<void> {
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    const tmp = tempPathFor(target);
    const fh = await open(tmp, 'wx', mode);
    try {
      await fill(fh);
      await fh.chmod(mode);
      await fh.sync();
      await fh.close();
      await rename(tmp, target);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
  }
}

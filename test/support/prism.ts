// Prism proxy in front of a test upstream (the DigitalOcean simulator): every request and every
// response is validated against the vendored OpenAPI contract test/contracts/digitalocean/do-api-v2.yaml
// (provenance and how to re-derive it: test/contracts/digitalocean/README.md);
// with --errors a violation becomes a 422 (request) or 500 (response) that fails the test.
// One Prism per test file: it takes seconds to start.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const doApiSpecPath = join(repoRoot, 'test', 'contracts', 'digitalocean', 'do-api-v2.yaml');
const prismBin = join(repoRoot, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');

export interface PrismProxy {
  url: string;
  /** everything Prism printed (for the canary-token check) */
  log(): string;
  stop(): Promise<void>;
}

export async function startPrismProxy(upstream: string): Promise<PrismProxy> {
  if (!existsSync(doApiSpecPath)) throw new Error(`prism: the DigitalOcean contract is missing at ${doApiSpecPath} (it is vendored in the repository: restore it with git)`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // the bin itself rather than `npx prism`: npx would leave Prism running when killed
    const child = spawn(process.execPath, [prismBin, 'proxy', '-h', '127.0.0.1', '-p', String(port), doApiSpecPath, upstream, '--errors'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    const ready = await waitReady(url, child, 60_000);
    if (ready) {
      return {
        url,
        log: () => output,
        stop: () => stopChild(child),
      };
    }
    await stopChild(child);
    if (attempt >= 3) throw new Error(`prism: did not start on ${url}:\n${output.slice(-2000)}`);
  }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) return false;
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return false;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 3000);
  await exited;
  clearTimeout(timer);
}

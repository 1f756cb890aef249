// A real etcd cluster (Debian etcd-server) on loopback for tests: N members, TLS on the client
// URLs with client-certificate auth (REAL-INFRA.md §1), optional v2 API. Every process it starts
// is killed and its temp dir removed by stop(), also when a test failed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueTestCertificates, type TestCertificates } from './etcd-test-certificates.ts';
import { freePort } from './free-port.ts';

export interface EtcdctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface EtcdTestCluster {
  dir: string;
  /** client URLs, https://127.0.0.1:<port>, one per member */
  endpoints: string[];
  certs: TestCertificates;
  /** runs etcdctl with the cluster's CA and client certificate (v3 flags or v2 flags) */
  etcdctl(args: string[], opts?: { api?: 'v2' | 'v3'; endpoints?: string[] }): Promise<EtcdctlResult>;
  stopMember(index: number): Promise<void>;
  startMember(index: number): Promise<void>;
  /** the member's log so far (etcd logs rejected TLS connections there) */
  memberLog(index: number): Promise<string>;
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  members?: number;
  /** etcd 3.4 serves /v2/keys only with --enable-v2=true */
  enableV2?: boolean;
}

/** A port that was free a moment ago (etcd can't report a port-0 bind; the race is small). */
function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<EtcdctlResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: env ?? process.env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** etcd's /health over TLS answers {"health":"true"} (false on any error or timeout). */
export function etcdHealthy(endpoint: string, tls: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/health`, { ...tls, timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function healthy(endpoint: string, certs: TestCertificates): Promise<boolean> {
  return etcdHealthy(endpoint, { ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem });
}

export async function startEtcdCluster(opts: EtcdClusterOptions = {}): Promise<EtcdTestCluster> {
  const n = opts.members ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'kw-etcd-'));
  const procs: (ChildProcess | undefined)[] = [];
  const exited: Promise<void>[] = [];
  const stopOne = async (i: number): Promise<void> => {
    const p = procs[i];
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = exited[i];
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  // if the test process dies without running after() (uncaught error, closed stdout), take etcd along
  const killOnExit = (): void => {
    for (const p of procs) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stopAll = async (): Promise<void> => {
    await Promise.all(procs.map((_, i) => stopOne(i)));
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const certs = await issueTestCertificates(join(dir, 'pki'));
    const clientPorts: number[] = [];
    const peerPorts: number[] = [];
    for (let i = 0; i < n; i++) {
      clientPorts.push(await freePort());
      peerPorts.push(await freePort());
    }
    const names = clientPorts.map((_, i) => `kw${i}`);
    const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${peerPorts[i]}`).join(',');
    const endpoints = clientPorts.map((p) => `https://127.0.0.1:${p}`);
    const args = (i: number): string[] => [
      '--name', names[i] ?? '',
      '--data-dir', join(dir, `data-${i}`),
      '--logger=zap',
      '--listen-client-urls', endpoints[i] ?? '',
      '--advertise-client-urls', endpoints[i] ?? '',
      '--listen-peer-urls', `http://127.0.0.1:${peerPorts[i]}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPorts[i]}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `kw-${dir.slice(-6)}`,
      '--cert-file', certs.files.serverCert,
      '--key-file', certs.files.serverKey,
      '--client-cert-auth',
      '--trusted-ca-file', certs.files.ca,
      `--enable-v2=${opts.enableV2 ? 'true' : 'false'}`,
    ];
    const startOne = async (i: number): Promise<void> => {
      const { openSync, closeSync } = await import('node:fs');
      const fd = openSync(join(dir, `etcd-${i}.log`), 'a');
      const p = spawn('etcd', args(i), { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      procs[i] = p;
      exited[i] = new Promise((r) => p.once('exit', () => r()));
    };
    for (let i = 0; i < n; i++) await startOne(i);
    const waitHealthy = async (indexes: number[]): Promise<void> => {
      for (let attempt = 0; attempt < 150; attempt++) {
        const ok = await Promise.all(indexes.map((i) => healthy(endpoints[i] ?? '', certs)));
        if (ok.every(Boolean)) return;
        for (const i of indexes) {
          const p = procs[i];
          if (p && p.exitCode !== null) {
            throw new Error(`test etcd member ${i} exited (${p.exitCode}): ${await readFile(join(dir, `etcd-${i}.log`), 'utf8')}`);
          }
        }
        await sleep(100);
      }
      throw new Error(`test etcd members ${indexes.join(',')} not healthy after 15 s`);
    };
    await waitHealthy(names.map((_, i) => i));

    const cluster: EtcdTestCluster = {
      dir,
      endpoints,
      certs,
      etcdctl: (a, o = {}) => {
        const eps = (o.endpoints ?? endpoints).join(',');
        if (o.api === 'v2') {
          return run('etcdctl', ['--endpoints', eps, '--ca-file', certs.files.ca, '--cert-file', certs.files.clientCert, '--key-file', certs.files.clientKey, ...a], { ...process.env, ETCDCTL_API: '2' });
        }
        return run('etcdctl', ['--endpoints', eps, '--cacert', certs.files.ca, '--cert', certs.files.clientCert, '--key', certs.files.clientKey, '--dial-timeout', '3s', ...a], { ...process.env, ETCDCTL_API: '3' });
      },
      stopMember: (i) => stopOne(i),
      startMember: async (i) => {
        await startOne(i);
        await waitHealthy([i]);
      },
      memberLog: (i) => readFile(join(dir, `etcd-${i}.log`), 'utf8'),
      stop: stopAll,
    };
    return cluster;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Writes a file and returns its path (small convenience for tests that need extra PEM files). */
export async function writeTestFile(dir: string, name: string, contents: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, contents, { mode: 0o600 });
  return p;
}

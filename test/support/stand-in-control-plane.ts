// TEST DOUBLE: stand-ins for kube-apiserver, kube-controller-manager and kube-scheduler (the real
// binaries cannot run on this machine). Each one, like its binary at start-up:
//   - refuses any flag the version oracle (test/contracts/flag-oracle.ts) does not give its
//     Kubernetes minor (unknown, removed, not yet there), as the real binary's "unknown flag" would;
//   - reads every file a flag points at: certificates and keys (a key must match its certificate),
//     kubeconfigs and the files they name, the encryption/authentication/scheduler config files
//     (kind and apiVersion checked against the version, the aescbc key must be 32 bytes);
//   - kube-apiserver then serves /readyz, /livez and /healthz anonymously and /version only to a
//     client certificate signed by --client-ca-file, over TLS with --tls-cert-file;
//   - kube-controller-manager and kube-scheduler connect to the server their kubeconfig names
//     (verifying its certificate, presenting theirs) and print `connected` once /readyz answers;
//     from 1.13 they also serve /healthz anonymously over HTTPS on their secure port (10257,
//     10259; --bind-address) with a self-signed certificate, as the binaries do when given none.
// It prints `ready` (or `connected`) on stdout and runs until SIGTERM. It does not schedule,
// control or store anything: assertions resting on it prove files and flags, not Kubernetes.
//
// usage: node --import tsx stand-in-control-plane.ts <component> <minor> [flags…]
// env:   STAND_IN_ROOT   prefix for every absolute path (the rendered tree on this machine)
//        STAND_IN_PORT   listen on / connect to this port instead of the rendered one (loopback tests)
//        STAND_IN_HOST   kube-apiserver: listen on this address; controller-manager/scheduler: serve /healthz
//                        there and reach their kubeconfig's server there, verified by its own name (several
//                        stand-in masters on loopback, each with its own address for its 127.0.0.1)
//        STAND_IN_HEALTH_PORT  controller-manager/scheduler (1.13 on): serve /healthz on this port (the binaries' 10257/10259;
//                        only when set, since fixed ports would collide between tests running at once)
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, request } from 'node:https';
import { join } from 'node:path';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { judgeFlag, type OracleComponent } from '../contracts/flag-oracle.ts';

type Component = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export class StandInError extends Error {}

const root = process.env['STAND_IN_ROOT'] ?? '';
const at = (path: string): string => (path.startsWith('/') && root ? join(root, path) : path);

function read(path: string, what: string): string {
  try {
    return readFileSync(at(path), 'utf8');
  } catch (e) {
    throw new StandInError(`${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function certificate(path: string, what: string): X509Certificate {
  try {
    return new X509Certificate(read(path, what));
  } catch (e) {
    if (e instanceof StandInError) throw e;
    throw new StandInError(`${what}: ${path} is not a PEM certificate`);
  }
}

function privateKey(path: string, what: string): string {
  const pem = read(path, what);
  try {
    createPrivateKey(pem);
  } catch {
    throw new StandInError(`${what}: ${path} is not a PEM private key`);
  }
  return pem;
}

function keyPair(certPath: string, keyPath: string, what: string): { cert: string; key: string } {
  const cert = certificate(certPath, what);
  const key = privateKey(keyPath, what);
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(cert.publicKey.export({ type: 'spki', format: 'der' })).equals(fromKey)) {
    throw new StandInError(`${what}: ${keyPath} does not belong to ${certPath}`);
  }
  return { cert: read(certPath, what), key };
}

function yamlFile(path: string, what: string): Record<string, unknown> {
  const o = parse(read(path, what)) as unknown;
  if (!o || typeof o !== 'object') throw new StandInError(`${what}: ${path} is not a YAML mapping`);
  return o as Record<string, unknown>;
}

interface Kubeconfig {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

function kubeconfig(path: string, what: string): Kubeconfig {
  const k = yamlFile(path, what) as { clusters?: { cluster: Record<string, string> }[]; users?: { user: Record<string, string> }[] };
  const cluster = k.clusters?.[0]?.cluster;
  const user = k.users?.[0]?.user;
  if (!cluster?.['server'] || !cluster['certificate-authority'] || !user?.['client-certificate'] || !user['client-key']) {
    throw new StandInError(`${what}: ${path} needs a server, certificate-authority, client-certificate and client-key`);
  }
  certificate(cluster['certificate-authority'], `${what} certificate-authority`);
  const pair = keyPair(user['client-certificate'], user['client-key'], `${what} client`);
  return { server: cluster['server'], ca: read(cluster['certificate-authority'], what), ...pair };
}

function flagsOf(component: Component, minor: number, argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^(--[a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1]) throw new StandInError(`unexpected argument ${arg}`);
    const { verdict, record } = judgeFlag(component as OracleComponent, m[1], minor);
    if (verdict === 'unknown' || verdict === 'removed' || verdict === 'not-yet') {
      throw new StandInError(`unknown flag: ${m[1]} (1.${minor}: ${verdict}${record ? `; ${record.ref}` : ''})`);
    }
    flags.set(m[1], m[2] ?? 'true');
  }
  return flags;
}

const need = (flags: Map<string, string>, name: string): string => {
  const v = flags.get(name);
  if (v === undefined) throw new StandInError(`${name} is required`);
  return v;
};

/** Every file flag of kube-apiserver read and checked; returns what the server needs. */
function checkApiserver(flags: Map<string, string>, minor: number): { tls: { cert: string; key: string }; clientCa: string } {
  const clientCa = read(need(flags, '--client-ca-file'), '--client-ca-file');
  certificate(need(flags, '--client-ca-file'), '--client-ca-file');
  const tls = keyPair(need(flags, '--tls-cert-file'), need(flags, '--tls-private-key-file'), 'serving certificate');
  keyPair(need(flags, '--kubelet-client-certificate'), need(flags, '--kubelet-client-key'), 'kubelet client');
  keyPair(need(flags, '--etcd-certfile'), need(flags, '--etcd-keyfile'), 'etcd client');
  certificate(need(flags, '--etcd-cafile'), '--etcd-cafile');
  if (flags.has('--kubelet-certificate-authority')) certificate(need(flags, '--kubelet-certificate-authority'), '--kubelet-certificate-authority');
  if (flags.has('--proxy-client-cert-file')) keyPair(need(flags, '--proxy-client-cert-file'), need(flags, '--proxy-client-key-file'), 'front-proxy client');
  if (flags.has('--requestheader-client-ca-file')) certificate(need(flags, '--requestheader-client-ca-file'), '--requestheader-client-ca-file');
  createPublicKey(read(need(flags, '--service-account-key-file'), '--service-account-key-file'));
  if (flags.has('--service-account-signing-key-file')) privateKey(need(flags, '--service-account-signing-key-file'), '--service-account-signing-key-file');
  for (const url of need(flags, '--etcd-servers').split(',')) {
    if (!/^https:\/\/[^/]+:\d+$/.test(url)) throw new StandInError(`--etcd-servers: ${url} is not an https://host:port URL`);
  }
  const encryptionFlag = flags.has('--encryption-provider-config') ? '--encryption-provider-config' : '--experimental-encryption-provider-config';
  const enc = yamlFile(need(flags, encryptionFlag), encryptionFlag) as { kind?: string; apiVersion?: string; resources?: { providers?: { aescbc?: { keys?: { secret?: string }[] } }[] }[] };
  const wantKind = minor >= 13 ? 'EncryptionConfiguration' : 'EncryptionConfig';
  if (enc.kind !== wantKind) throw new StandInError(`${encryptionFlag}: kind ${String(enc.kind)}, 1.${minor} reads ${wantKind}`);
  for (const p of enc.resources?.flatMap((r) => r.providers ?? []) ?? []) {
    for (const k of p.aescbc?.keys ?? []) {
      if (Buffer.from(k.secret ?? '', 'base64').length !== 32) throw new StandInError(`${encryptionFlag}: an aescbc key must be 32 bytes`);
    }
  }
  if (flags.has('--authentication-config')) {
    const a = yamlFile(need(flags, '--authentication-config'), '--authentication-config');
    if (a['kind'] !== 'AuthenticationConfiguration') throw new StandInError(`--authentication-config: kind ${String(a['kind'])}`);
  }
  return { tls, clientCa };
}

function checkController(component: Component, flags: Map<string, string>, minor: number): Kubeconfig {
  let main: Kubeconfig | undefined;
  if (flags.has('--config')) {
    const c = yamlFile(need(flags, '--config'), '--config') as { kind?: string; apiVersion?: string; clientConnection?: { kubeconfig?: string } };
    if (c.kind !== 'KubeSchedulerConfiguration') throw new StandInError(`--config: kind ${String(c.kind)}`);
    const group = minor >= 12 ? 'kubescheduler.config.k8s.io/' : 'componentconfig/';
    if (!c.apiVersion?.startsWith(group)) throw new StandInError(`--config: apiVersion ${String(c.apiVersion)} is not one 1.${minor} reads`);
    main = kubeconfig(c.clientConnection?.kubeconfig ?? '', '--config clientConnection.kubeconfig');
  }
  for (const f of ['--kubeconfig', '--authentication-kubeconfig', '--authorization-kubeconfig']) {
    if (flags.has(f)) {
      const k = kubeconfig(need(flags, f), f);
      main ??= k;
    }
  }
  if (component === 'kube-controller-manager') {
    keyPair(need(flags, '--cluster-signing-cert-file'), need(flags, '--cluster-signing-key-file'), 'cluster signing');
    certificate(need(flags, '--root-ca-file'), '--root-ca-file');
    privateKey(need(flags, '--service-account-private-key-file'), '--service-account-private-key-file');
    if (flags.has('--requestheader-client-ca-file')) certificate(need(flags, '--requestheader-client-ca-file'), '--requestheader-client-ca-file');
  }
  if (!main) throw new StandInError('no kubeconfig: pass --kubeconfig or --config');
  return main;
}

const port = (rendered: number): number => Number(process.env['STAND_IN_PORT'] ?? rendered);

function serveApiserver(flags: Map<string, string>, tls: { cert: string; key: string }, clientCa: string, minor: number): void {
  const anonymous = new Set(['/readyz', '/livez', '/healthz']);
  const server = createServer({ cert: tls.cert, key: tls.key, ca: clientCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const socket = req.socket as TLSSocket;
    if (anonymous.has(path)) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!socket.authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
      return;
    }
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]>;
    if (path === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ major: '1', minor: String(minor), gitVersion: `v1.${minor}.0`, standIn: true, user: subject['CN'], groups: subject['O'] ?? [] }));
      return;
    }
    res.writeHead(404).end();
  });
  const host = flags.get('--bind-address') ?? '0.0.0.0';
  const listenOn = process.env['STAND_IN_HOST'] ?? (host === '0.0.0.0' && process.env['STAND_IN_PORT'] ? '127.0.0.1' : host);
  server.listen(port(Number(flags.get('--secure-port') ?? 6443)), listenOn, () => {
    process.stdout.write('ready\n');
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function connect(k: Kubeconfig): void {
  const url = new URL(k.server);
  let done = false;
  const attempt = (): void => {
    const standInHost = process.env['STAND_IN_HOST'];
    const to = standInHost ? { host: standInHost, checkServerIdentity: (_h: string, cert: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(url.hostname, cert) } : { host: url.hostname, servername: url.hostname };
    const req = request({ ...to, port: port(Number(url.port || 443)), path: '/readyz', ca: k.ca, cert: k.cert, key: k.key }, (res) => {
      res.resume();
      if (res.statusCode === 200 && !done) {
        done = true;
        process.stdout.write('connected\n');
      }
    });
    req.on('error', (e) => process.stderr.write(`${e.message}\n`));
    req.end();
  };
  attempt();
  const timer = setInterval(() => (done ? clearInterval(timer) : attempt()), 200);
  const keepAlive = setInterval(() => undefined, 60_000);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    clearInterval(keepAlive);
    process.exit(0);
  });
}

/** A throwaway self-signed certificate, as the controller-manager and scheduler make for themselves when given none. */
function selfSigned(cn: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stand-in-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The secure port's anonymous /healthz (1.13 on): always-allowed, as --authorization-always-allow-paths defaults. */
function serveHealthz(component: Component, flags: Map<string, string>): void {
  const tls = selfSigned(`${component}@stand-in`);
  const server = createServer(tls, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz' || path === '/livez') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else res.writeHead(403).end();
  });
  server.on('error', (e) => {
    process.stderr.write(`${component} (stand-in): /healthz: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(Number(process.env['STAND_IN_HEALTH_PORT']), process.env['STAND_IN_HOST'] ?? flags.get('--bind-address') ?? '0.0.0.0');
  server.unref();
}

export function runStandIn(component: Component, minor: number, argv: readonly string[]): void {
  const flags = flagsOf(component, minor, argv);
  if (component === 'kube-apiserver') {
    const { tls, clientCa } = checkApiserver(flags, minor);
    serveApiserver(flags, tls, clientCa, minor);
    return;
  }
  const kubeconfig = checkController(component, flags, minor);
  // opt-in: the fixed ports 10257/10259 would collide between tests running at once
  if (minor >= 13 && process.env['STAND_IN_HEALTH_PORT']) serveHealthz(component, flags);
  connect(kubeconfig);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const [component, minor, ...argv] = process.argv.slice(2);
  try {
    if (component !== 'kube-apiserver' && component !== 'kube-controller-manager' && component !== 'kube-scheduler') throw new StandInError(`unknown component ${String(component)}`);
    runStandIn(component, Number(minor), argv);
  } catch (e) {
    process.stderr.write(`${String(component)} (stand-in): ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

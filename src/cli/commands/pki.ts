// `kubewright pki init | issue | plan`: the cluster CA and certificates, cfssl-compatible.
import { basename, isAbsolute } from 'node:path';
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.ts';
import { ensureBareCertificate } from '../../pki/bare-certificate.ts';
import { rotateClusterCa, rotationStages, type RotationStage } from '../../pki/ca-rotation.ts';
import type { CertDecision } from '../../pki/certificate-decision.ts';
import { importEtcdCa, initClusterCa, readCaConfig, readClusterCa, readEtcdCa } from '../../pki/cluster-ca.ts';
import { ensureClusterPki, planClusterPki } from '../../pki/cluster-pki.ts';
import { parseCsrRequest } from '../../pki/csr-request.ts';
import { parseDuration } from '../../pki/duration.ts';
import { barePaths, caFiles, etcdCaFiles, resolvePkiDir } from '../../pki/pki-files.ts';
import { keySpecProblem, type KeySpec } from '../../pki/private-key.ts';
import { defaultProfileName, profileNamed } from '../../pki/signing-profile.ts';
import { providerFor } from '../../providers/provider-for.ts';
import { readFile } from 'node:fs/promises';
import { holdClusterLock, lockTimeoutOption } from '../cluster-lock-option.ts';
import { loadClusterFile } from '../load-cluster.ts';
import { outputOption, type OutputFormat } from '../output-option.ts';
import type { Io } from '../io.ts';
import { formatTable } from '../table.ts';

function thresholdOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new InputError(`--threshold: not a duration (got ${JSON.stringify(value)})`, { hint: 'write it like 30d or 720h' });
  return ms;
}

function keyOf(algo: string | undefined, size: string | undefined): KeySpec | undefined {
  if (algo === undefined && size === undefined) return undefined;
  const a = algo ?? 'ecdsa';
  const n = size === undefined ? (a === 'rsa' ? 2048 : 256) : Number(size);
  const problem = keySpecProblem({ algo: a, size: n });
  if (problem) throw new InputError(`--algo/--size: ${problem}`, { hint: 'use --algo ecdsa (P-256, default) or --algo rsa --size 2048|4096' });
  return { algo: a as KeySpec['algo'], size: n };
}

function printDecisions(io: Io, dir: string, decisions: CertDecision[], threshold?: string): void {
  io.out(`pki: ${dir}`);
  for (const l of formatTable(decisions.map((d) => [d.action, d.name, d.reason]), { indent: '  ' })) io.out(l);
  const count = (a: CertDecision['action']): number => decisions.filter((d) => d.action === a).length;
  const expiring = decisions.filter((d) => d.expiring).length;
  io.out(`${count('keep')} keep, ${count('issue')} issue, ${count('reissue')} reissue${threshold === undefined ? '' : `; ${expiring} expiring within ${threshold}`}`);
}

export function registerPki(program: Command, io: Io): void {
  const pki = program
    .command('pki')
    .description('the cluster CA and certificates (cfssl-compatible files: name.pem, name-key.pem, name.csr)')
    .addHelpText(
      'after',
      `
Files live in the spec's pki.dir (relative to the spec file): ca.pem, ca-key.pem, ca-config.json,
admin*, etcd-client*, kube-proxy* and nodes/<node>/kubelet* (modern) or kubelet/kubelet* (seed).
Keys are 0600 in 0700 directories; a valid certificate is kept, so re-running changes nothing.

Examples:
  kubewright pki init -f cluster.yaml
  kubewright pki init -f cluster.yaml --import-ca root/ca.pem --import-ca-key root/ca-key.pem --ca-config ca-config.json
  kubewright pki plan -f cluster.yaml
  kubewright pki issue -f cluster.yaml
  kubewright pki issue -f cluster.yaml --csr kubelet.json --name kubelet/kubelet
  kubewright pki rotate-ca -f cluster.yaml --stage trust
`,
    );

  pki
    .command('init')
    .description('create the cluster CA (ECDSA P-256 by default), or import one cfssl made; keeps an existing CA')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--algo <algo>', 'key algorithm of a new CA: ecdsa or rsa (default: spec pki.algo)')
    .option('--size <bits>', 'key size: 256/384/521 for ecdsa, 2048/4096 for rsa')
    .option('--ca-expiry <duration>', 'validity of a new CA, cfssl style', '43800h')
    .option('--import-ca <ca.pem>', "import this CA certificate (e.g. cfssl's root/ca.pem)")
    .option('--import-ca-key <ca-key.pem>', 'the key of the imported CA (EC, RSA or PKCS#8 PEM)')
    .option('--import-etcd-ca <etcd-ca.pem>', "import etcd's own CA; it then signs flannel's etcd client certificate")
    .option('--import-etcd-ca-key <etcd-ca-key.pem>', 'the key of the imported etcd CA')
    .option('--new-etcd-ca', "create etcd's own CA in a PKI that has only the cluster CA (a new PKI gets one anyway)")
    .option('--ca-config <ca-config.json>', "cfssl signing config to use (default: cfssl's usual kubernetes profile, 8760h)")
    .option('--force', 'replace a CA that is already there (every certificate is then re-issued)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  kubewright pki init -f cluster.yaml
  kubewright pki init -f cluster.yaml --algo rsa --size 4096
  kubewright pki init -f cluster.yaml --import-ca root/ca.pem --import-ca-key root/ca-key.pem
`,
    )
    .action(async (opts: { file: string; lockTimeout: string; algo?: string; size?: string; caExpiry: string; importCa?: string; importCaKey?: string; importEtcdCa?: string; importEtcdCaKey?: string; newEtcdCa?: boolean; caConfig?: string; force?: boolean; output: OutputFormat }) => {
      const output = opts.output;
      const key = keyOf(opts.algo, opts.size);
      const expiryMs = parseDuration(opts.caExpiry);
      if (expiryMs === undefined) throw new InputError(`--ca-expiry: not a duration (got ${JSON.stringify(opts.caExpiry)})`, { hint: 'write it as cfssl does, e.g. 43800h (5 years)' });
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'pki init', opts.lockTimeout);
      if (opts.newEtcdCa && opts.importEtcdCa !== undefined) throw new InputError('pki init: --new-etcd-ca and --import-etcd-ca exclude each other', { hint: 'create a new etcd CA or import one, not both' });
      const dir = resolvePkiDir(cluster);
      const result = await initClusterCa(cluster, dir, {
        key,
        expiryMs,
        importCert: opts.importCa,
        importKey: opts.importCaKey,
        caConfig: opts.caConfig,
        force: opts.force,
        etcdCa: opts.importEtcdCa !== undefined || opts.importEtcdCaKey !== undefined ? 'none' : opts.newEtcdCa ? 'new' : 'auto',
      });
      const decisions = [result.decision, ...(result.etcd ? [result.etcd.decision] : [])];
      if (opts.importEtcdCa !== undefined || opts.importEtcdCaKey !== undefined) {
        if (opts.importEtcdCa === undefined || opts.importEtcdCaKey === undefined) {
          throw new InputError('pki init: --import-etcd-ca and --import-etcd-ca-key go together', { hint: "pass both etcd's CA certificate and its key" });
        }
        decisions.push(await importEtcdCa(dir, opts.importEtcdCa, opts.importEtcdCaKey, { force: opts.force }));
      }
      if (output === 'json') {
        io.out(JSON.stringify({ dir, decisions, files: result.files }, null, 2));
      } else {
        printDecisions(io, dir, decisions);
      }
    });

  pki
    .command('issue')
    .description("issue the cluster's certificates (or one from a cfssl CSR JSON); keeps valid ones, re-issues stale ones")
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(lockTimeoutOption())
    .option('--csr <csr.json>', 'issue one certificate from this cfssl CSR JSON instead of the cluster set')
    .option('--name <name>', 'with --csr: cfssljson -bare name under pki.dir (default: the CSR file name)')
    .option('--profile <name>', 'with --csr: signing profile from ca-config.json', defaultProfileName)
    .addOption(new Option('--ca <which>', "with --csr: the signing CA — cluster, or etcd (etcd's serving and peer certificates)").choices(['cluster', 'etcd']).default('cluster'))
    .option('--threshold <duration>', 're-issue certificates expiring within this time', '30d')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  kubewright pki issue -f cluster.yaml
  kubewright pki issue -f cluster.yaml --threshold 60d --output json
  kubewright pki issue -f cluster.yaml --csr kubelet.json --name kubelet/kubelet
  kubewright pki issue -f cluster.yaml --csr etcd-server.json --name etcd/server --ca etcd
`,
    )
    .action(async (opts: { file: string; lockTimeout: string; csr?: string; name?: string; profile: string; ca: 'cluster' | 'etcd'; threshold: string; output: OutputFormat }) => {
      const output = opts.output;
      const thresholdMs = thresholdOf(opts.threshold);
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'pki issue', opts.lockTimeout);
      const dir = resolvePkiDir(cluster);
      if (opts.csr === undefined) {
        if (opts.name !== undefined) throw new InputError('--name: only with --csr', { hint: 'pass --csr csr.json --name NAME, or neither' });
        const result = await ensureClusterPki(cluster, await providerFor(cluster).recorded(), { thresholdMs });
        if (output === 'json') io.out(JSON.stringify({ dir, decisions: result.decisions, paths: result.paths }, null, 2));
        else printDecisions(io, dir, result.decisions);
        return;
      }
      const csrFile = opts.csr;
      const text = await readFile(csrFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new InputError(`${csrFile}: cannot read the CSR JSON (${e.code ?? String(e)})`, { hint: 'check the path given with --csr' });
      });
      const request = parseCsrRequest(text, csrFile);
      const ca = opts.ca === 'etcd' ? await readEtcdCa(dir) : await readClusterCa(dir);
      if (!ca) {
        const file = opts.ca === 'etcd' ? etcdCaFiles(dir).cert : caFiles(dir).cert;
        throw new InputError(`${file}: no ${opts.ca === 'etcd' ? 'etcd ' : ''}CA in the PKI directory`, { hint: `create one first: kubewright pki init -f ${opts.file}${opts.ca === 'etcd' ? ' --new-etcd-ca' : ''}` });
      }
      const name = opts.name ?? basename(csrFile).replace(/(-csr)?\.json$/, '');
      if (name === '' || isAbsolute(name) || name.split('/').includes('..')) throw new InputError(`--name: must be a relative name inside pki.dir (got ${JSON.stringify(name)})`, { hint: 'e.g. --name kubelet/kubelet' });
      const profile = profileNamed(await readCaConfig(dir), opts.profile);
      const paths = barePaths(dir, name);
      const r = await ensureBareCertificate(name, paths, request, profile, ca, { thresholdMs, write: true });
      if (output === 'json') io.out(JSON.stringify({ dir, decisions: [r.decision], paths: { [name]: paths } }, null, 2));
      else printDecisions(io, dir, [r.decision]);
    });

  pki
    .command('rotate-ca')
    .description('rotate the cluster CA in three stages, each followed by apply, with nodes trusting both CAs in between')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .addOption(new Option('--stage <stage>', 'trust: make the new CA, trusted beside the old; switch: the new CA signs, the old stays trusted; finish: stop trusting the old').choices([...rotationStages]).makeOptionMandatory())
    .addOption(lockTimeoutOption())
    .option('--ca-expiry <duration>', 'validity of the new CA (stage trust), cfssl style', '43800h')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The whole rotation: three stages, each followed by apply (docs/pki.md, "CA rotation").
Examples:
  kubewright pki rotate-ca -f cluster.yaml --stage trust    # new CA in ca-next.pem; nothing re-signed
  kubewright apply -f cluster.yaml                          # every node trusts old + new
  kubewright pki rotate-ca -f cluster.yaml --stage switch   # new CA signs; old kept in ca-previous.pem
  kubewright pki issue -f cluster.yaml && kubewright apply -f cluster.yaml   # new certificates everywhere
  kubewright pki rotate-ca -f cluster.yaml --stage finish   # old CA no longer trusted
  kubewright apply -f cluster.yaml
Components kubewright does not manage (the API server's --client-ca-file, your kubeconfigs) must
trust the same bundle in the same windows. Each stage can be re-run; the old CA pair is kept in
pki/backup/<UTC time>/.
`,
    )
    .action(async (opts: { file: string; stage: RotationStage; lockTimeout: string; caExpiry: string; output: OutputFormat }) => {
      const expiryMs = parseDuration(opts.caExpiry);
      if (expiryMs === undefined) throw new InputError(`--ca-expiry: not a duration (got ${JSON.stringify(opts.caExpiry)})`, { hint: 'write it as cfssl does, e.g. 43800h (5 years)' });
      const cluster = await loadClusterFile(opts.file);
      await holdClusterLock(cluster, 'pki rotate-ca', opts.lockTimeout);
      const dir = resolvePkiDir(cluster);
      const decisions = await rotateClusterCa(cluster, dir, opts.stage, { expiryMs });
      if (opts.output === 'json') io.out(JSON.stringify({ dir, stage: opts.stage, decisions }, null, 2));
      else printDecisions(io, dir, decisions);
    });

  pki
    .command('plan')
    .description('show, per certificate, whether issue would keep, issue or re-issue it, why, and the days left; writes nothing')
    .requiredOption('-f, --file <path>', 'cluster spec')
    .option('--threshold <duration>', 're-issue certificates expiring within this time', '30d')
    .option('--expiring', 'list only the certificates (and CAs) that expire within the threshold or have expired')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Each line ends with the days left. \`pki issue\` with the same --threshold renews exactly the
certificates this lists as reissue (new key, same subject and SANs); \`apply\` then restarts only
the units that read a renewed file. A CA is never renewed here: see CA rotation in docs/pki.md.

Examples:
  kubewright pki plan -f cluster.yaml --output json
  kubewright pki plan -f cluster.yaml --threshold 60d --expiring
`,
    )
    .action(async (opts: { file: string; threshold: string; expiring?: boolean; output: OutputFormat }) => {
      const output = opts.output;
      const thresholdMs = thresholdOf(opts.threshold);
      const cluster = await loadClusterFile(opts.file);
      const plan = await planClusterPki(cluster, await providerFor(cluster).recorded(), { thresholdMs });
      const decisions = opts.expiring ? plan.decisions.filter((d) => d.expiring) : plan.decisions;
      if (output === 'json') io.out(JSON.stringify({ dir: plan.paths.dir, threshold: opts.threshold, decisions, paths: plan.paths }, null, 2));
      else printDecisions(io, plan.paths.dir, decisions, opts.threshold);
    });

  for (const c of pki.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
}

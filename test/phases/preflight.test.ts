// The preflight checks: the gather script's preflight lines run for real on this machine (judged
// against /proc itself), then every check is failed from gathered output. The output is a GATHER
// DOUBLE (hand-written lines in the script's format) for what no container here can fake: swap,
// kernel modules, cgroup version, systemd missing, a foreign architecture, cloud-init, clock skew.
// test/phases/doctor-nspawn.test.ts fails the rest on real machines (port 10250, ip_forward, disk).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LocalExecutor } from '../../src/exec/local-executor.ts';
import { gatherFacts, parseFacts } from '../../src/phases/gather-facts.ts';
import { planFromFacts, type BinarySource } from '../../src/phases/manager.ts';
import { parseIgnorePreflightErrors, preflightChecks, PreflightError, type PreflightFinding, type PreflightRequirements } from '../../src/phases/preflight.ts';
import { preflightRequirements } from '../../src/run/prepare-run.ts';
import { plannedHosts } from '../../src/providers/provider.ts';
import { renderCluster } from '../../src/render/cluster.ts';
import type { RenderedHost } from '../../src/render/types.ts';
import { parseCluster, type Cluster } from '../../src/spec/cluster.ts';

const spec = (profile: 'seed' | 'modern', version: string): string => `apiVersion: kubewright.dev/v1alpha1
kind: Cluster
metadata: { name: pre }
profile: ${profile}
kubernetes: { version: "${version}", apiServer: "https://127.0.0.1:6443" }
provider: { static: { hosts: [{ name: w1, address: 127.0.0.1 }] } }
etcd: { discovery: { endpoints: ["https://127.0.0.1:2379"] } }
`;
const rendered = (profile: 'seed' | 'modern', version: string): RenderedHost => {
  const cluster = parseCluster(spec(profile, version), '/tmp/pre.yaml');
  return renderCluster({ cluster, hosts: plannedHosts(cluster) }).hosts.values().next().value!;
};
const modern = rendered('modern', '1.36.2');
const modernReq: PreflightRequirements = { kubernetes: { major: 1, minor: 36 }, profile: 'modern' };

/** gather's output for a host that passes everything; `over` replaces whole `@key value` lines */
function gathered(over: Record<string, string | undefined> = {}): string {
  const lines: Record<string, string | undefined> = {
    arch: 'x86_64', os: 'debian 12', systemd: 'systemd 252 (252.39-1~deb12u2)', df: '10000000', epoch: String(Math.round(Date.now() / 1000)),
    swap: '0', brnf: 'yes', overlay: 'yes', ipforward: '1', cgroupfs: 'cgroup2fs', ntp: 'yes', dfbin: '10000000 /usr/local', port10250: '', kubeletpid: '0',
    ...over,
  };
  return Object.entries(lines).filter(([, v]) => v !== undefined).map(([k, v]) => `@${k} ${v}`).join('\n') + '\n@end\n';
}
const check = (out: string, opts: { desired?: RenderedHost; req?: PreflightRequirements; install?: string[]; bytes?: (p: string) => number } = {}): Map<string, PreflightFinding> => {
  const desired = opts.desired ?? modern;
  const facts = parseFacts(out, desired, { receivedAtMs: Date.now() });
  const findings = preflightChecks({ facts, desired, requirements: opts.req ?? modernReq, binariesToInstall: opts.install ?? [], binaryBytes: opts.bytes });
  return new Map(findings.map((f) => [f.check, f]));
};
const severities = (m: Map<string, PreflightFinding>): Record<string, string> => Object.fromEntries([...m].map(([k, f]) => [k, f.severity]));

test("the gather script's preflight lines tell this machine's swap, modules, ip_forward and cgroup as /proc does", async () => {
  const facts = await gatherFacts(new LocalExecutor(), modern);
  const pre = facts.preflight;
  assert.ok(pre, 'preflight facts gathered');
  assert.equal(pre.swapDevices, readFileSync('/proc/swaps', 'utf8').trim().split('\n').length - 1);
  assert.equal(pre.ipForward, readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim());
  assert.equal(pre.overlayFs, /\boverlay\b/.test(readFileSync('/proc/filesystems', 'utf8')));
  assert.match(pre.cgroupFs, /^(cgroup2fs|tmpfs)$/);
  assert.ok(pre.binDirFreeKb > 0 && pre.binDir.startsWith('/'), JSON.stringify(pre));
  assert.ok(pre.clockSkewSec !== undefined && Math.abs(pre.clockSkewSec) <= 2, `same clock: ${pre.clockSkewSec}`);
});

test('a host that has everything passes every check', () => {
  const m = check(gathered(), { install: ['/usr/local/bin/kubelet'] });
  assert.deepEqual(severities(m), { arch: 'ok', os: 'ok', systemd: 'ok', disk: 'ok', swap: 'ok', 'kernel-modules': 'ok', 'ip-forward': 'ok', 'port-10250': 'ok', 'time-sync': 'ok', cgroup: 'ok' });
});

test('blocking: a foreign architecture, no systemd, swap on — each names the fix', () => {
  const m = check(gathered({ arch: 'riscv64', systemd: '', swap: '2' }));
  assert.deepEqual([m.get('arch')?.severity, m.get('systemd')?.severity, m.get('swap')?.severity], ['blocking', 'blocking', 'blocking']);
  assert.match(m.get('arch')!.message, /^host architecture "riscv64" is not supported: kubewright installs linux\/amd64 and linux\/arm64 binaries only$/);
  assert.match(m.get('swap')!.message, /2 swap device\(s\) active: the kubelet refuses to start with swap on \(Kubernetes 1\.34\+ can use swap/);
  assert.match(m.get('swap')!.fix!, /swapoff -a/);
  assert.doesNotMatch(check(gathered({ swap: '1' }), { req: { kubernetes: { major: 1, minor: 23 }, profile: 'modern' } }).get('swap')!.message, /1\.34/, 'the NodeSwap note only where the version has it');
});

test('port 10250: our own kubelet holding it is fine, anything else blocks', () => {
  const line = (pid: number): string => `LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=${pid},fd=20))`;
  assert.equal(check(gathered({ port10250: line(4242), kubeletpid: '4242' })).get('port-10250')?.severity, 'ok');
  const other = check(gathered({ port10250: 'LISTEN 0 5 0.0.0.0:10250 0.0.0.0:* users:(("python3",pid=77,fd=3))', kubeletpid: '0' })).get('port-10250');
  assert.equal(other?.severity, 'blocking');
  assert.match(other!.message, /held by python3 \(pid 77\)/);
  assert.equal(check(gathered({ port10250: line(4242), kubeletpid: '4243' })).get('port-10250')?.severity, 'blocking', 'a kubelet that is not kubelet.service');
});

test('kernel modules and ip_forward the render turns on are warnings naming the file that does it; without one, ip_forward blocks', () => {
  const m = check(gathered({ brnf: 'no', overlay: 'no', ipforward: '0' }));
  assert.equal(m.get('kernel-modules')?.severity, 'warning');
  assert.match(m.get('kernel-modules')!.message, /^br_netfilter, overlay not loaded \(apply loads them through \/etc\/modules-load\.d\/kubewright\.conf\)$/);
  assert.equal(m.get('ip-forward')?.severity, 'warning');
  assert.match(m.get('ip-forward')!.message, /through \/etc\/sysctl\.d\/90-kubewright\.conf/);
  // seed: docker turns forwarding on itself (dockerd --ip-forward defaults to true)
  const seed = rendered('seed', '1.8.15');
  assert.match(check(gathered({ ipforward: '0' }), { desired: seed, req: { kubernetes: { major: 1, minor: 8 }, profile: 'seed' } }).get('ip-forward')!.message, /docker\.service/);
  const bare: RenderedHost = { ...modern, files: modern.files.filter((f) => !f.path.startsWith('/etc/sysctl.d/')) };
  const blocked = check(gathered({ ipforward: '0' }), { desired: bare }).get('ip-forward');
  assert.equal(blocked?.severity, 'blocking');
  assert.match(blocked!.fix!, /net\.ipv4\.ip_forward = 1/);
});

test('cgroup: v1 blocks under 1.35+ (the kubelet refuses it), warns under 1.31-1.34 (maintenance); v2 under 1.25- warns; v1 under 1.23 is fine', () => {
  const v1 = check(gathered({ cgroupfs: 'tmpfs' })).get('cgroup');
  assert.equal(v1?.severity, 'blocking');
  assert.match(v1!.message, /refuses to start on it \(failCgroupV1 defaults to true since 1\.35\)/);
  assert.match(v1!.fix!, /systemd\.unified_cgroup_hierarchy=1.*--ignore-preflight-errors=cgroup/);
  const maintenance = check(gathered({ cgroupfs: 'tmpfs' }), { req: { kubernetes: { major: 1, minor: 34 }, profile: 'modern' } }).get('cgroup');
  assert.equal(maintenance?.severity, 'warning');
  assert.match(maintenance!.message, /maintenance mode/);
  const old = { kubernetes: { major: 1, minor: 23 }, profile: 'modern' } as const;
  assert.match(check(gathered({ cgroupfs: 'cgroup2fs' }), { req: old }).get('cgroup')!.message, /does not support \(GA in 1\.25\)/);
  assert.equal(check(gathered({ cgroupfs: 'tmpfs' }), { req: old }).get('cgroup')?.severity, 'ok');
});

test('ignored checks: a blocking finding of a named check (or of every check with all) becomes a warning that says so; the others still block', () => {
  const out = gathered({ cgroupfs: 'tmpfs', swap: '1' });
  const named = check(out, { req: { ...modernReq, ignoreErrors: parseIgnorePreflightErrors('CGROUP') } });
  assert.equal(named.get('cgroup')?.severity, 'warning');
  assert.match(named.get('cgroup')!.message, /refuses to start on it .*\(ignored: --ignore-preflight-errors or preflight\.ignoreErrors\)$/);
  assert.equal(named.get('swap')?.severity, 'blocking', 'only the named check is accepted');
  const all = check(out, { req: { ...modernReq, ignoreErrors: parseIgnorePreflightErrors('all') } });
  assert.deepEqual([all.get('cgroup')?.severity, all.get('swap')?.severity], ['warning', 'warning']);
  assert.equal(check(gathered(), { req: { ...modernReq, ignoreErrors: 'all' } }).get('swap')?.severity, 'ok', 'an ok check stays ok');
});

test('--ignore-preflight-errors takes check names (a comma list, any case) or all alone, and names the checks when it gets another word', () => {
  assert.deepEqual(parseIgnorePreflightErrors('cgroup, Swap'), new Set(['cgroup', 'swap']));
  assert.equal(parseIgnorePreflightErrors('ALL'), 'all');
  assert.equal(parseIgnorePreflightErrors(undefined), undefined);
  assert.throws(() => parseIgnorePreflightErrors('cgroup,all'), /^InputError: --ignore-preflight-errors: 'all' ignores every check, so it stands alone/);
  assert.throws(() => parseIgnorePreflightErrors('cgroups'), (e: Error & { hint?: string }) => /no preflight check named cgroups/.test(e.message) && /the checks are arch, os, .*cgroup, cloud-init \(or all\)/.test(e.hint ?? ''));
  assert.throws(() => parseIgnorePreflightErrors(' , '), /--ignore-preflight-errors: empty/);
});

test("the spec's preflight.ignoreErrors and the flag add up; all in either ignores every check", () => {
  const withSpec = (list: string): Cluster => parseCluster(spec('modern', '1.36.2') + `preflight: { ignoreErrors: [${list}] }\n`, '/tmp/pre.yaml');
  assert.deepEqual(preflightRequirements(withSpec('cgroup'), new Set(['swap'])).ignoreErrors, new Set(['swap', 'cgroup']));
  assert.equal(preflightRequirements(withSpec('all')).ignoreErrors, 'all');
  assert.equal(preflightRequirements(withSpec(''), 'all').ignoreErrors, 'all');
  assert.equal(preflightRequirements(withSpec('')).ignoreErrors, undefined);
  assert.throws(() => withSpec('cgroups'), (e: Error & { issues?: { path: string; got?: string }[] }) => e.issues?.[0]?.path === 'preflight.ignoreErrors.0' && e.issues[0].got === '"cgroups"');
});

test('time: an unsynchronised clock or one more than 5 minutes off is a warning', () => {
  assert.match(check(gathered({ ntp: 'no' })).get('time-sync')!.message, /not NTP-synchronised/);
  const skewed = check(gathered({ epoch: String(Math.round(Date.now() / 1000) - 900) })).get('time-sync');
  assert.equal(skewed?.severity, 'warning');
  assert.match(skewed!.message, /clock is 9\d\d s behind/);
});

test('disk: an estimate only warns; measured downloads that do not fit block', () => {
  const small = gathered({ dfbin: '102400 /usr/local' }); // 100 MiB
  const estimated = check(small, { install: ['/usr/local/bin/kubelet', '/usr/local/bin/kube-proxy'] }).get('disk');
  assert.equal(estimated?.severity, 'warning');
  assert.match(estimated!.message, /100 MiB free in \/usr\/local, 2 binaries to install \(estimated 160 MiB\) \+ 256 MiB headroom need 416 MiB/);
  const exact = check(small, { install: ['/usr/local/bin/kubelet'], bytes: () => 50 * 1024 * 1024 }).get('disk');
  assert.equal(exact?.severity, 'blocking');
  assert.equal(check(gathered({ dfbin: '1048576 /usr/local' }), { install: ['/usr/local/bin/kubelet'], bytes: () => 50 * 1024 * 1024 }).get('disk')?.severity, 'ok');
});

test('cloud-init: absent is no check, done passes, an error or a wait that ran out warns', () => {
  assert.equal(check(gathered()).get('cloud-init'), undefined);
  assert.equal(check(gathered({ cloudinit: 'done' })).get('cloud-init')?.severity, 'ok');
  assert.match(check(gathered({ cloudinit: 'error' })).get('cloud-init')!.message, /finished with status error/);
  assert.match(check(gathered({ cloudinit: '' })).get('cloud-init')!.message, /still running/);
});

test('plan fails a blocked host before planning, naming host, check and fix', async () => {
  const facts = parseFacts(gathered({ swap: '1' }), modern);
  const binaries: BinarySource = { knownInstalledDigest: async () => undefined, binary: async () => assert.fail('test double: nothing is downloaded for a blocked host') };
  await assert.rejects(planFromFacts('w1', modern, facts, binaries, { fetchBinaries: true, preflight: modernReq }), (e: unknown) => {
    assert.ok(e instanceof PreflightError);
    assert.equal(e.host, 'w1');
    assert.match(e.describe(), /^w1: preflight failed: swap: 1 swap device\(s\) active.* — fix: run `swapoff -a`/);
    return true;
  });
  const warned = await planFromFacts('w1', modern, parseFacts(gathered({ ntp: 'no' }), modern), binaries, { fetchBinaries: false, preflight: modernReq });
  assert.deepEqual(warned.findings.filter((f) => f.severity !== 'ok').map((f) => f.check), ['time-sync'], 'a warning does not stop the plan');
  assert.ok(warned.actions.length > 0);
});

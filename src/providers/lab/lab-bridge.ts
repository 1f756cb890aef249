// The lab's bridge: a private subnet on this machine with the host at .1 — no gateway, no NAT.
import { LabError } from './lab-errors.ts';
import { runLocal } from '../../exec/command-result.ts';

export async function linkExists(name: string): Promise<boolean> {
  return (await runLocal(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true })).code === 0;
}

export async function createBridge(name: string, address: string, prefix: number): Promise<void> {
  const steps: string[][] = [
    ['link', 'add', name, 'type', 'bridge'],
    ['addr', 'add', `${address}/${prefix}`, 'dev', name],
    ['link', 'set', name, 'up'],
  ];
  for (const s of steps) {
    const r = await runLocal(['ip', ...s], { allowFailure: true });
    if (r.code !== 0) {
      if (s[1] !== 'add' || s[0] !== 'link') await runLocal(['ip', 'link', 'del', name], { allowFailure: true });
      throw new LabError(`lab bridge ${name}: ip ${s.join(' ')} failed: ${r.stderr.trim()}`, {
        hint: r.stderr.includes('File exists') ? `another lab or network uses ${name} or ${address}: change provider.lab.bridge/subnet, or run kubewright lab down` : 'run as root',
      });
    }
  }
}

/** Deletes a link if it exists (the bridge, or a veth left behind). */
export async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  const r = await runLocal(['ip', 'link', 'del', name], { allowFailure: true });
  if (r.code !== 0 && (await linkExists(name))) throw new LabError(`lab: ip link del ${name} failed: ${r.stderr.trim()}`, { hint: 'run as root' });
}

/** Interfaces attached to a bridge (the machines' host-side veths). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const r = await runLocal(['ip', '-o', 'link', 'show', 'master', bridge], { allowFailure: true });
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n);
}

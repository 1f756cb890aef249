// Which release binaries a host gets, from the `uname -m` gather reports. Kubernetes, containerd,
// runc, CNI and flannel publish linux/amd64 and linux/arm64 builds; any other machine is refused
// before anything is fetched or written, rather than sent binaries it cannot run.
import { KubewrightError } from '../errors.ts';
import type { Arch } from '../render/release-binaries.ts';

// uname -m names (the kernel's): x86_64 on amd64; aarch64 on arm64 Linux (arm64 on some other kernels)
const archByMachine: Record<string, Arch> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' };

export class UnsupportedArchError extends KubewrightError {
  constructor(host: string, machine: string, onlyArch?: Arch) {
    const what = machine ? JSON.stringify(machine) : 'unknown (uname -m printed nothing)';
    const why = onlyArch ? `this run has ${onlyArch} binaries only` : 'kubewright installs linux/amd64 and linux/arm64 binaries only';
    super(`host architecture ${what} is not supported: ${why}`, {
      host,
      hint: 'use x86_64 or aarch64 hosts for workers, or remove this host from the spec',
    });
  }
}

/** The release arch for a host's `uname -m`; throws UnsupportedArchError naming the host otherwise. */
export function hostArch(host: string, machine: string): Arch {
  const arch = archByMachine[machine.trim()];
  if (!arch) throw new UnsupportedArchError(host, machine.trim());
  return arch;
}

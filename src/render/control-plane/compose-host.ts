// A stacked master runs an etcd member and the API-server trio on one host, and apply prunes what
// a host's desired state does not list: both parts must be one RenderedHost. This joins them —
// etcd's units first (kube-apiserver needs its store), files and binaries side by side — and refuses
// two different contents for one path rather than let one part silently overwrite the other.
import { InputError } from '../../errors.ts';
import type { RenderedHost } from '../types.ts';

export function composeHost(first: RenderedHost, second: RenderedHost): RenderedHost {
  if (first.name !== second.name) throw new Error(`composeHost: ${first.name} and ${second.name} are different hosts`);
  const files = [...first.files];
  for (const f of second.files) {
    const same = files.find((x) => x.path === f.path);
    if (!same) files.push(f);
    else if (same.contents !== f.contents || same.mode !== f.mode) {
      throw new InputError(`${first.name}: ${f.path} is rendered twice with different contents`, { hint: 'two roles on one host must not write the same file differently — report this as a kubewright bug' });
    }
  }
  const binaries = [...first.binaries, ...second.binaries.filter((b) => !first.binaries.some((x) => x.path === b.path))];
  return { name: first.name, files, units: [...first.units, ...second.units], binaries };
}

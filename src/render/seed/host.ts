// The seed profile (the post, reproduced): every file one worker gets.
import type { Host } from '../../providers/host.ts';
import type { RenderedHost, RenderInput } from '../types.ts';

export function renderSeedHost(_input: RenderInput, host: Host): RenderedHost {
  return { name: host.name, files: [], units: [], binaries: [] };
}

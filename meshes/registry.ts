import { ConfigError, didYouMean } from '../core/index.js';
import { IstioAdapter } from './istio.js';
import { LinkerdAdapter } from './linkerd.js';
import type { DataPlaneMode, MeshAdapter } from './types.js';

const MESHES: Record<string, (mode: DataPlaneMode, revision?: string) => MeshAdapter> = {
  istio: (mode, revision) => new IstioAdapter(mode, revision),
  linkerd: (mode) => {
    if (mode !== 'sidecar') throw new ConfigError('Linkerd has no ambient mode; use mode "sidecar"');
    return new LinkerdAdapter();
  },
};

/** The adapter for a mesh by name; an unknown name fails with the valid ones. */
export function meshAdapter(name: string, mode: DataPlaneMode = 'sidecar', revision?: string): MeshAdapter {
  const make = MESHES[name];
  if (!make) throw new ConfigError(`Unknown mesh "${name}"${didYouMean(name, Object.keys(MESHES))} One of: ${Object.keys(MESHES).join(', ')}`);
  return make(mode, revision);
}

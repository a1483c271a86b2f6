import type { KubeClient } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import type { Scope } from '../slo/index.js';
import type { SliKey } from '../model/index.js';
import type { Change } from './changes.js';
import type { FaultSpec } from './schema.js';

/** What a fault needs to know to plan: the mesh, the run, and read access to the cluster. */
export interface FaultContext {
  adapter: MeshAdapter;
  kube: KubeClient;
  runId: string;
  now: Date;
  /** Worker nodes that may be lost, when the provider can stop nodes. */
  nodes?: string[];
  /** Deterministic choices (which pods, which nodes). */
  random: () => number;
}

export interface Probe {
  sli: SliKey;
  scope: Scope;
  why: string;
}

/** What a fault will change, in order, and what to watch while it is in. */
export interface FaultPlan {
  type: FaultSpec['type'];
  name: string;
  summary: string;
  notes: string[];
  changes: Change[];
  probes: Probe[];
}

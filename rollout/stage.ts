import type { KubeObject } from '../clusters/index.js';
import type { MeshAdapter, MtlsMode } from '../meshes/index.js';
import type { Topology } from '../model/index.js';
import type { RolloutPlan, Stage } from './schema.js';

export interface NamespaceState {
  namespace: string;
  meshed: boolean;
  /** The mTLS mode the plan has set for it, if any (the mesh's default otherwise: PERMISSIVE). */
  mtls?: MtlsMode;
}

/** What a stage of the plan means for the cluster: a pure function of plan, topology and stage number. */
export interface StagePlan {
  plan: string;
  /** Stages applied: 0 is unmeshed, N means stages[0..N-1] are live. */
  stage: number;
  /** The stage that brought the cluster here (stages[stage - 1]). */
  current?: Stage;
  namespaces: NamespaceState[];
  /** Policy objects that must exist (PeerAuthentication, Linkerd Server/authorization). */
  policies: KubeObject[];
  /** Policy objects that must not exist. */
  removedPolicies: KubeObject[];
}

export function planStage(plan: RolloutPlan, topology: Topology, stage: number, adapter: MeshAdapter): StagePlan {
  const applied = plan.spec.stages.slice(0, stage);
  const meshed = new Set(applied.flatMap((s) => s.namespaces));
  // A stage's mtls applies to every namespace meshed so far; unset keeps the previous stage's.
  const mtls = [...applied].reverse().find((s) => s.mtls !== undefined)?.mtls;
  const namespaces = topology.spec.namespaces.map((ns) => ({ namespace: ns.name, meshed: meshed.has(ns.name), ...(meshed.has(ns.name) && mtls ? { mtls } : {}) }));
  const policies: KubeObject[] = [];
  const removedPolicies: KubeObject[] = [];
  for (const ns of namespaces) {
    if (!ns.meshed || !ns.mtls) continue;
    const { apply, remove } = adapter.mtlsObjects(ns.namespace, ns.mtls);
    policies.push(...apply);
    removedPolicies.push(...remove);
  }
  return { plan: plan.metadata.name, stage, ...(stage > 0 ? { current: plan.spec.stages[stage - 1]! } : {}), namespaces, policies, removedPolicies };
}

/** Namespaces whose mesh state differs between two stage plans. */
export function stageDiff(from: StagePlan, to: StagePlan): Array<{ namespace: string; from: NamespaceState; to: NamespaceState }> {
  const before = new Map(from.namespaces.map((n) => [n.namespace, n]));
  return to.namespaces
    .map((n) => ({ namespace: n.namespace, from: before.get(n.namespace) ?? { namespace: n.namespace, meshed: false }, to: n }))
    .filter((d) => d.from.meshed !== d.to.meshed || d.from.mtls !== d.to.mtls);
}

import type { KubeClient, KubeObject } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import type { StagePlan } from './stage.js';

const PROXY_CONTAINERS = ['istio-proxy', 'linkerd-proxy'];
const EXAMPLES = 3;

function hasProxy(pod: KubeObject): boolean {
  const spec = (pod['spec'] ?? {}) as { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }> };
  // Native sidecars (Kubernetes ≥ 1.29) put the proxy among the init containers.
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => PROXY_CONTAINERS.includes(c.name));
}

function running(pod: KubeObject): boolean {
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata['deletionTimestamp'];
}

/** Whether `found` holds every field `wanted` sets (the server may add defaults and order keys its way). */
function contains(found: unknown, wanted: unknown): boolean {
  if (wanted === null || typeof wanted !== 'object') return found === wanted;
  if (found === null || typeof found !== 'object') return false;
  if (Array.isArray(wanted)) return Array.isArray(found) && found.length === wanted.length && wanted.every((w, i) => contains(found[i], w));
  return Object.entries(wanted).every(([key, value]) => contains((found as Record<string, unknown>)[key], value));
}

function names(pods: KubeObject[]): string {
  return `${pods.slice(0, EXAMPLES).map((p) => p.metadata.name).join(', ')}${pods.length > EXAMPLES ? ` and ${pods.length - EXAMPLES} more` : ''}`;
}

/**
 * Where a live cluster differs from what a stage means: a namespace's mesh labels or annotations,
 * pods not yet (or still) carrying a proxy (a restart the rollout has not finished), a policy
 * object missing or different, one that should be gone. Read only. Empty when the GitOps engine
 * has applied the stage and the workloads have followed.
 */
export async function stageDrift(kube: KubeClient, adapter: MeshAdapter, stage: StagePlan): Promise<string[]> {
  const drift: string[] = [];
  const sidecars = !(adapter.name === 'istio' && adapter.mode === 'ambient');
  for (const ns of stage.namespaces) {
    const object = await kube.get('v1', 'Namespace', undefined, ns.namespace);
    if (!object) {
      drift.push(`namespace ${ns.namespace} does not exist`);
      continue;
    }
    const marks = adapter.namespaceMarks(ns.meshed);
    for (const [where, wanted, found] of [['label', marks.labels, object.metadata.labels ?? {}], ['annotation', marks.annotations, object.metadata.annotations ?? {}]] as const) {
      for (const [key, value] of Object.entries(wanted)) {
        const actual = found[key];
        if (value === null ? actual !== undefined : actual !== value) drift.push(`namespace ${ns.namespace}: ${where} ${key} is ${actual === undefined ? 'unset' : `"${actual}"`}; stage ${stage.stage} wants ${value === null ? 'it unset' : `"${value}"`}`);
      }
    }
    if (!sidecars) continue;
    const pods = (await kube.list('v1', 'Pod', { namespace: ns.namespace })).filter(running);
    const wrong = pods.filter((p) => hasProxy(p) !== ns.meshed);
    if (wrong.length > 0) drift.push(`namespace ${ns.namespace}: ${wrong.length} of ${pods.length} pods ${ns.meshed ? 'have no proxy yet' : 'still have a proxy'} (${names(wrong)}): their workloads have not restarted since the namespace was ${ns.meshed ? 'meshed' : 'unmeshed'}`);
  }
  for (const policy of stage.policies) {
    const found = await kube.get(policy.apiVersion, policy.kind, policy.metadata.namespace, policy.metadata.name);
    if (!found) drift.push(`${policy.kind} ${policy.metadata.namespace}/${policy.metadata.name} is missing`);
    else if (!contains(found['spec'], policy['spec'])) drift.push(`${policy.kind} ${policy.metadata.namespace}/${policy.metadata.name} differs from what stage ${stage.stage} renders`);
  }
  for (const policy of stage.removedPolicies) {
    if (await kube.get(policy.apiVersion, policy.kind, policy.metadata.namespace, policy.metadata.name)) drift.push(`${policy.kind} ${policy.metadata.namespace}/${policy.metadata.name} should be gone at stage ${stage.stage}`);
  }
  return drift;
}

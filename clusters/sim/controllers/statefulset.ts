import type { KubeObject } from '../api/types.js';
import { createPod } from './replicaset.js';
import { isPodReady, ownedBy, templateHash, writeStatus, type ControllerContext, type Obj } from './context.js';

// StatefulSet semantics (k8s.io/kubernetes/pkg/controller/statefulset): pods named <set>-<ordinal>;
// OrderedReady creates ordinal i only once 0..i-1 are Ready and removes from the highest
// ordinal; a rolling update replaces pods one at a time from the highest ordinal down.

const REVISION_LABEL = 'controller-revision-hash';

export function reconcileStatefulSet(ctx: ControllerContext, namespace: string, name: string): void {
  const set = ctx.api.find(ctx.type('StatefulSet'), namespace, name);
  if (!set) return;
  const spec = set.spec as Obj;
  const desired = Number(spec['replicas'] ?? 1);
  const revision = `${name}-${templateHash(spec['template'])}`;
  const parallel = spec['podManagementPolicy'] === 'Parallel';
  const pods = () => ownedBy(ctx.api.list(ctx.type('Pod'), namespace), set);
  const byOrdinal = new Map(pods().map((p) => [ordinal(p, name), p]));
  for (let i = 0; i < desired; i++) {
    if (byOrdinal.has(i)) {
      if (!parallel && !isPodReady(byOrdinal.get(i)!)) break;
      continue;
    }
    createPod(ctx, set, { name: `${name}-${i}`, labels: { [REVISION_LABEL]: revision, 'statefulset.kubernetes.io/pod-name': `${name}-${i}`, 'apps.kubernetes.io/pod-index': String(i) } });
    if (!parallel) break;
  }
  for (const [i, pod] of [...byOrdinal].sort((a, b) => b[0] - a[0])) {
    if (i >= desired) {
      ctx.api.delete(ctx.type('Pod'), namespace, pod.metadata.name);
      if (!parallel) break;
    }
  }
  const current = pods().filter((p) => ordinal(p, name) < desired);
  const allReady = current.length === desired && current.every(isPodReady);
  const stale = current.filter((p) => p.metadata.labels?.[REVISION_LABEL] !== revision).sort((a, b) => ordinal(b, name) - ordinal(a, name));
  if (allReady && stale[0]) ctx.api.delete(ctx.type('Pod'), namespace, stale[0].metadata.name);
  const now = pods();
  const updated = now.filter((p) => p.metadata.labels?.[REVISION_LABEL] === revision).length;
  const previous = (set.status as Obj | undefined)?.['currentRevision'];
  const done = updated === desired && now.length === desired;
  writeStatus(ctx, 'StatefulSet', set, {
    observedGeneration: set.metadata.generation,
    replicas: now.length,
    readyReplicas: now.filter(isPodReady).length,
    availableReplicas: now.filter(isPodReady).length,
    currentReplicas: done ? desired : now.length - updated,
    updatedReplicas: updated,
    currentRevision: done || previous === undefined ? revision : previous,
    updateRevision: revision,
    collisionCount: 0,
  });
}

function ordinal(pod: KubeObject, setName: string): number {
  return Number(pod.metadata.name.slice(setName.length + 1));
}

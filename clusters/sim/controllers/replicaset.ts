import type { KubeObject } from '../api/types.js';
import { isPodReady, ownedBy, ownerRef, recordEvent, writeStatus, type ControllerContext, type Obj } from './context.js';
import { copyJson } from '../api/store.js';

/** Keeps spec.replicas pods per ReplicaSet; prefers removing unscheduled, unready, then newest pods. */
export function reconcileReplicaSet(ctx: ControllerContext, namespace: string, name: string): void {
  const rs = ctx.api.find(ctx.type('ReplicaSet'), namespace, name);
  if (!rs) return;
  const spec = rs.spec as Obj;
  const desired = Number(spec['replicas'] ?? 1);
  let pods = ownedBy(ctx.api.list(ctx.type('Pod'), namespace), rs).filter((p) => !p.metadata.deletionTimestamp);
  if (pods.length < desired) {
    let created = 0;
    for (let i = pods.length; i < desired; i++) if (createPod(ctx, rs)) created++;
    if (created > 0) recordEvent(ctx, rs, 'Normal', 'SuccessfulCreate', `Created ${created} pod(s)`, 'replicaset-controller');
  } else if (pods.length > desired) {
    const victims = [...pods].sort(deletionOrder).slice(0, pods.length - desired);
    for (const pod of victims) ctx.api.delete(ctx.type('Pod'), namespace, pod.metadata.name);
  }
  pods = ownedBy(ctx.api.list(ctx.type('Pod'), namespace), rs);
  const ready = pods.filter(isPodReady).length;
  writeStatus(ctx, 'ReplicaSet', rs, {
    replicas: pods.length,
    fullyLabeledReplicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation,
  });
}

function createPod(ctx: ControllerContext, owner: KubeObject, extra: { name?: string; nodeName?: string; labels?: Record<string, string> } = {}): boolean {
  const template = copyJson(((owner.spec as Obj)['template'] ?? {}) as { metadata?: Obj; spec?: Obj });
  const labels = { ...((template.metadata?.['labels'] as Record<string, string> | undefined) ?? {}), ...extra.labels };
  const naming = extra.name ? { name: extra.name } : { generateName: `${owner.metadata.name}-` };
  const metadata = { ...(template.metadata ?? {}), ...naming, labels, namespace: owner.metadata.namespace, ownerReferences: [ownerRef(owner)] };
  const spec = extra.nodeName ? { ...template.spec, nodeName: extra.nodeName } : template.spec;
  try {
    ctx.api.create(ctx.type('Pod'), owner.metadata.namespace, { metadata, spec });
    return true;
  } catch (error) {
    // A rejected pod (an admission webhook said no) is an event, as on a real cluster.
    recordEvent(ctx, owner, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`, `${owner.kind.toLowerCase()}-controller`);
    return false;
  }
}

function rank(pod: KubeObject): number {
  if (!(pod.spec as Obj | undefined)?.['nodeName']) return 0;
  if (!isPodReady(pod)) return 1;
  return 2;
}

function deletionOrder(a: KubeObject, b: KubeObject): number {
  return rank(a) - rank(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) || b.metadata.name.localeCompare(a.metadata.name);
}

export { createPod };

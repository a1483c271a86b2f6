import { createPod } from './replicaset.js';
import { isPodReady, ownedBy, templateHash, writeStatus, type ControllerContext, type Obj } from './context.js';
import { schedulableNodes } from './nodes.js';

const HASH_LABEL = 'controller-revision-hash';

/** A pod per Ready, schedulable node; updates replace one pod at a time (maxUnavailable 1). */
export function reconcileDaemonSet(ctx: ControllerContext, namespace: string, name: string): void {
  const set = ctx.api.find(ctx.type('DaemonSet'), namespace, name);
  if (!set) return;
  const hash = templateHash((set.spec as Obj)['template']);
  const nodes = schedulableNodes(ctx).map((n) => n.metadata.name);
  const pods = () => ownedBy(ctx.api.list(ctx.type('Pod'), namespace), set);
  const onNode = new Map(pods().map((p) => [String((p.spec as Obj)['nodeName'] ?? ''), p]));
  for (const node of nodes) if (!onNode.has(node)) createPod(ctx, set, { nodeName: node, labels: { [HASH_LABEL]: hash } });
  for (const [node, pod] of onNode) if (!nodes.includes(node)) ctx.api.delete(ctx.type('Pod'), namespace, pod.metadata.name);
  const current = pods();
  const stale = current.filter((p) => p.metadata.labels?.[HASH_LABEL] !== hash);
  if (stale[0] && current.every(isPodReady)) ctx.api.delete(ctx.type('Pod'), namespace, stale[0].metadata.name);
  const now = pods();
  const ready = now.filter(isPodReady).length;
  writeStatus(ctx, 'DaemonSet', set, {
    observedGeneration: set.metadata.generation,
    desiredNumberScheduled: nodes.length,
    currentNumberScheduled: now.length,
    numberMisscheduled: 0,
    numberReady: ready,
    numberAvailable: ready,
    ...(nodes.length - ready > 0 ? { numberUnavailable: nodes.length - ready } : {}),
    updatedNumberScheduled: now.filter((p) => p.metadata.labels?.[HASH_LABEL] === hash).length,
  });
}

import type { KubeObject } from '../api/types.js';
import { isoTime, ownedBy, ownerRef, recordEvent, templateHash, writeStatus, type ControllerContext, type Obj } from './context.js';
import { copyJson } from '../api/store.js';

// The Deployment controller's rolling update (k8s.io/kubernetes/pkg/controller/deployment):
// a ReplicaSet per pod template (named by pod-template-hash), the new one scaled up within
// maxSurge, old ones scaled down while availability stays above replicas - maxUnavailable.

function resolve(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(String(value ?? '25%'));
  const percent = match ? Number(match[1]) : 25;
  return roundUp ? Math.ceil((percent * total) / 100) : Math.floor((percent * total) / 100);
}

export function reconcileDeployment(ctx: ControllerContext, namespace: string, name: string): void {
  const deployment = ctx.api.find(ctx.type('Deployment'), namespace, name);
  if (!deployment) return;
  const spec = deployment.spec as Obj;
  const desired = Number(spec['replicas'] ?? 1);
  const template = spec['template'] as { metadata?: Obj; spec?: Obj };
  const hash = templateHash(template);
  const rsType = ctx.type('ReplicaSet');
  const owned = ownedBy(ctx.api.list(rsType, namespace), deployment);
  let current = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  const olds = owned.filter((rs) => rs !== current);
  const revision = 1 + Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
  if (!current) {
    const oldTotal = olds.reduce((n, rs) => n + replicas(rs), 0);
    current = createReplicaSet(ctx, deployment, hash, oldTotal === 0 ? desired : 0, revision);
    recordEvent(ctx, deployment, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${current.metadata.name} to ${replicas(current)}`, 'deployment-controller');
  }
  const strategy = (spec['strategy'] as Obj | undefined) ?? {};
  if (strategy['type'] === 'Recreate') rollRecreate(ctx, current, olds, desired);
  else rollRolling(ctx, deployment, current, olds, desired, (strategy['rollingUpdate'] as Obj | undefined) ?? {});
  updateStatus(ctx, deployment, hash, desired);
}

function replicas(rs: KubeObject): number {
  return Number((rs.spec as Obj)['replicas'] ?? 0);
}

function available(rs: KubeObject): number {
  return Number((rs.status as Obj | undefined)?.['availableReplicas'] ?? 0);
}

function scale(ctx: ControllerContext, rs: KubeObject, count: number): void {
  if (replicas(rs) === count) return;
  const fresh = ctx.api.find(ctx.type('ReplicaSet'), rs.metadata.namespace, rs.metadata.name);
  if (!fresh) return;
  ctx.api.update(ctx.type('ReplicaSet'), fresh.metadata.namespace, fresh.metadata.name, { ...fresh, spec: { ...(fresh.spec as Obj), replicas: count } });
}

function createReplicaSet(ctx: ControllerContext, deployment: KubeObject, hash: string, count: number, revision: number): KubeObject {
  const spec = deployment.spec as Obj;
  const template = copyJson(spec['template']) as { metadata?: { labels?: Record<string, string> }; spec?: Obj };
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': hash } };
  const selector = copyJson(spec['selector']) as { matchLabels?: Record<string, string> };
  selector.matchLabels = { ...selector.matchLabels, 'pod-template-hash': hash };
  return ctx.api.create(ctx.type('ReplicaSet'), deployment.metadata.namespace, {
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/desired-replicas': String(spec['replicas'] ?? 1), 'deployment.kubernetes.io/revision': String(revision) },
      ownerReferences: [ownerRef(deployment)],
    },
    spec: { replicas: count, selector, template },
  }).object;
}

function rollRolling(ctx: ControllerContext, deployment: KubeObject, current: KubeObject, olds: KubeObject[], desired: number, rolling: Obj): void {
  const maxSurge = resolve(rolling['maxSurge'], desired, true);
  let maxUnavailable = resolve(rolling['maxUnavailable'], desired, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const all = [current, ...olds];
  const total = all.reduce((n, rs) => n + replicas(rs), 0);
  if (replicas(current) > desired) scale(ctx, current, desired);
  else if (replicas(current) < desired) {
    const up = Math.min(desired + maxSurge - total, desired - replicas(current));
    if (up > 0) scale(ctx, current, replicas(current) + up);
  }
  // As reconcileOldReplicaSets does: counts from specs, so a status that lags cannot be spent twice.
  const minAvailable = desired - maxUnavailable;
  const allPods = [current, ...olds].reduce((n, rs) => n + replicas(rs), 0);
  const newUnavailable = replicas(current) - available(current);
  let maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return;
  const oldestFirst = [...olds].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  // Unhealthy old pods first: removing them costs no availability.
  const targets = new Map(oldestFirst.map((rs) => [rs, replicas(rs)]));
  for (const rs of oldestFirst) {
    const unhealthy = Math.max(0, replicas(rs) - available(rs));
    const remove = Math.min(unhealthy, maxScaledDown);
    targets.set(rs, replicas(rs) - remove);
    maxScaledDown -= remove;
  }
  let availableBudget = Math.min(maxScaledDown, all.reduce((n, rs) => n + available(rs), 0) - minAvailable);
  for (const rs of oldestFirst) {
    if (availableBudget <= 0) break;
    const remove = Math.min(targets.get(rs) ?? 0, availableBudget);
    targets.set(rs, (targets.get(rs) ?? 0) - remove);
    availableBudget -= remove;
  }
  for (const [rs, target] of targets) {
    if (target === replicas(rs)) continue;
    scale(ctx, rs, target);
    recordEvent(ctx, deployment, 'Normal', 'ScalingReplicaSet', `Scaled down replica set ${rs.metadata.name} to ${target} from ${replicas(rs)}`, 'deployment-controller');
  }
}

function rollRecreate(ctx: ControllerContext, current: KubeObject, olds: KubeObject[], desired: number): void {
  for (const old of olds) scale(ctx, old, 0);
  const oldPods = olds.reduce((n, rs) => n + Number((rs.status as Obj | undefined)?.['replicas'] ?? 0), 0);
  if (oldPods === 0) scale(ctx, current, desired);
}

function updateStatus(ctx: ControllerContext, deployment: KubeObject, hash: string, desired: number): void {
  const owned = ownedBy(ctx.api.list(ctx.type('ReplicaSet'), deployment.metadata.namespace), deployment);
  const sum = (key: string) => owned.reduce((n, rs) => n + Number((rs.status as Obj | undefined)?.[key] ?? 0), 0);
  const current = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  const updated = Number((current?.status as Obj | undefined)?.['replicas'] ?? 0);
  const availableNow = sum('availableReplicas');
  const total = sum('replicas');
  const complete = updated === desired && total === desired && availableNow === desired;
  const previous = ((deployment.status as Obj | undefined)?.['conditions'] as Obj[] | undefined) ?? [];
  const now = isoTime(ctx.clock);
  const condition = (type: string, status: string, reason: string, message: string): Obj => {
    const old = previous.find((c) => c['type'] === type);
    const transition = old && old['status'] === status ? old['lastTransitionTime'] : now;
    const update = old && old['reason'] === reason && old['status'] === status ? old['lastUpdateTime'] : now;
    return { type, status, lastUpdateTime: update, lastTransitionTime: transition, reason, message };
  };
  const rolling = ((deployment.spec as Obj)['strategy'] as Obj | undefined)?.['rollingUpdate'] as Obj | undefined;
  const minAvailable = desired - resolve(rolling?.['maxUnavailable'], desired, false);
  const currentName = current?.metadata.name ?? '';
  writeStatus(ctx, 'Deployment', deployment, {
    observedGeneration: deployment.metadata.generation,
    replicas: total,
    updatedReplicas: updated,
    readyReplicas: sum('readyReplicas'),
    availableReplicas: availableNow,
    ...(desired - availableNow > 0 ? { unavailableReplicas: desired - availableNow } : {}),
    conditions: [
      availableNow >= minAvailable
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      complete
        ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${currentName}" has successfully progressed.`)
        : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${currentName}" is progressing.`),
    ],
  });
}

import type { Clock } from '../../../core/index.js';
import type { Random } from '../random.js';
import type { ResourceType } from '../api/resources.js';
import type { ApiService } from '../api/service.js';
import type { KubeObject, OwnerReference } from '../api/types.js';

export type Obj = Record<string, unknown>;

/** Decides whether a running pod is ready; the mesh twin vetoes readiness through this. */
export type ReadinessCheck = (pod: KubeObject) => { ready: boolean; reason?: string; message?: string };

export interface ControllerContext {
  api: ApiService;
  clock: Clock;
  random: Random;
  /** Delay between a pod being scheduled and its containers running. */
  podStartDelayMs: number;
  /** How long pods stay on a NotReady node before they are evicted (the not-ready toleration, 300 s by default). */
  evictionDelayMs: number;
  readiness: ReadinessCheck[];
  enqueue(controller: string, key: string): void;
  type(kind: string): ResourceType;
}

export function ownerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller);
}

export function ownedBy(objects: KubeObject[], owner: KubeObject): KubeObject[] {
  return objects.filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

export function isPodReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as Obj | undefined)?.['conditions'] as Obj[] | undefined) ?? [];
  return conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

export function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Writes a new status when it differs from the stored one. */
export function writeStatus(ctx: ControllerContext, kind: string, object: KubeObject, status: Obj): void {
  if (JSON.stringify(object.status) === JSON.stringify(status)) return;
  const fresh = ctx.api.find(ctx.type(kind), object.metadata.namespace, object.metadata.name);
  if (!fresh) return;
  ctx.api.update(ctx.type(kind), fresh.metadata.namespace, fresh.metadata.name, { ...fresh, status }, { subresource: 'status' });
}

/**
 * A stable hash of a pod template, spelled as Kubernetes spells pod-template-hash. Like the
 * controller's (hashutil.DeepHashObject over the Go struct, in the struct's field order), it does
 * not depend on the order of keys in the JSON a client sent. Stored templates are frozen: each is
 * hashed once.
 */
export function templateHash(template: unknown): string {
  const known = template !== null && typeof template === 'object' ? hashes.get(template) : undefined;
  if (known) return known;
  const hash = fnvHash(canonicalJson(template));
  if (template !== null && typeof template === 'object' && Object.isFrozen(template)) hashes.set(template, hash);
  return hash;
}

const hashes = new WeakMap<object, string>();

/** JSON with every object's keys in sorted order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

function fnvHash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return String(h)
    .split('')
    .map((d) => alphabet[Number(d)])
    .join('');
}

let eventCounter = 0;

/** Records a core/v1 Event about an object, as controllers and the kubelet do. */
export function recordEvent(ctx: ControllerContext, involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
  const namespace = involved.metadata.namespace ?? 'default';
  if (!ctx.api.find(ctx.type('Namespace'), undefined, namespace)) return;
  const now = isoTime(ctx.clock);
  ctx.api.create(ctx.type('Event'), namespace, {
    metadata: { name: `${involved.metadata.name}.${(++eventCounter).toString(16).padStart(8, '0')}${ctx.random.suffix(4)}`, namespace },
    involvedObject: { kind: involved.kind, namespace: involved.metadata.namespace, name: involved.metadata.name, uid: involved.metadata.uid, apiVersion: involved.apiVersion, resourceVersion: involved.metadata.resourceVersion },
    reason,
    message,
    source: { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: '',
  });
}

import type { KubeClient, KubeObject, NodeControl } from '../clusters/index.js';

export type { NodeControl };

export const RUN_ID_LABEL = 'meshdrill.dev/run-id';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** One change a fault makes to a cluster, through the Kubernetes API only. */
export type Change =
  | { type: 'apply'; object: KubeObject; why: string }
  | { type: 'delete'; ref: ObjectRef; why: string }
  | { type: 'scale'; ref: ObjectRef; replicas: number; why: string }
  | { type: 'node-ready'; node: string; ready: boolean; why: string }
  /** Changes nothing; the revert puts the object back as it was (the control plane may change it in reaction). */
  | { type: 'track'; ref: ObjectRef; why: string };

/** How to take one change back; written to the journal before the change is made. */
export type Undo =
  | { type: 'restore'; ref: ObjectRef; object?: KubeObject }
  | { type: 'scale'; ref: ObjectRef; replicas: number }
  | { type: 'node-ready'; node: string; ready: boolean }
  | { type: 'none'; reason: string };

export function refOf(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): ObjectRef {
  return { apiVersion: object.apiVersion, kind: object.kind, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}), name: object.metadata.name };
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function describeChange(change: Change): string {
  switch (change.type) {
    case 'apply':
      return `apply ${describeRef(refOf(change.object))}: ${change.why}`;
    case 'delete':
      return `delete ${describeRef(change.ref)}: ${change.why}`;
    case 'scale':
      return `scale ${describeRef(change.ref)} to ${change.replicas}: ${change.why}`;
    case 'node-ready':
      return `mark node ${change.node} ${change.ready ? 'Ready' : 'NotReady'}: ${change.why}`;
    case 'track':
      return `restore ${describeRef(change.ref)} afterwards: ${change.why}`;
  }
}

/** An object as it can be written back: no server-set fields, no status. */
export function restorable(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, generation: _g, deletionTimestamp: _dt, ...metadata } = object.metadata as KubeObject['metadata'] & Record<string, unknown>;
  const { status: _status, ...rest } = object;
  return { ...rest, metadata: metadata as KubeObject['metadata'] } as KubeObject;
}

/** The part of an object a fault's revert must bring back: what a person wrote (spec, data, labels). */
export function comparable(object: KubeObject | undefined): string {
  if (!object) return 'absent';
  const clean = restorable(object);
  const { annotations, labels, name, namespace } = clean.metadata;
  return JSON.stringify(sortKeys({ ...clean, metadata: { name, namespace, labels, annotations } }));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}

/** Performs changes and their undos against a cluster. */
export class ChangeExecutor {
  constructor(
    private readonly kube: KubeClient,
    private readonly nodes?: NodeControl,
  ) {}

  /** What it takes to undo a change, read from the cluster before the change is made. */
  async undoFor(change: Change): Promise<Undo> {
    switch (change.type) {
      case 'apply': {
        const ref = refOf(change.object);
        const before = await this.get(ref);
        return { type: 'restore', ref, ...(before ? { object: restorable(before) } : {}) };
      }
      case 'track': {
        const before = await this.get(change.ref);
        return { type: 'restore', ref: change.ref, ...(before ? { object: restorable(before) } : {}) };
      }
      case 'delete': {
        const before = await this.get(change.ref);
        return before ? { type: 'restore', ref: change.ref, object: restorable(before) } : { type: 'none', reason: `${describeRef(change.ref)} did not exist` };
      }
      case 'scale': {
        const before = await this.get(change.ref);
        if (!before) throw new Error(`cannot scale ${describeRef(change.ref)}: it does not exist`);
        return { type: 'scale', ref: change.ref, replicas: ((before['spec'] as { replicas?: number } | undefined)?.replicas ?? 1) };
      }
      case 'node-ready': {
        if (!this.nodes) throw new Error('node faults need a provider that can stop nodes');
        return { type: 'node-ready', node: change.node, ready: !change.ready };
      }
    }
  }

  async perform(change: Change): Promise<void> {
    switch (change.type) {
      case 'apply':
        await this.kube.apply(change.object);
        return;
      case 'delete':
        await this.kube.delete(change.ref.apiVersion, change.ref.kind, change.ref.namespace, change.ref.name);
        return;
      case 'scale':
        await this.kube.mergePatch(change.ref.apiVersion, change.ref.kind, change.ref.namespace, change.ref.name, { spec: { replicas: change.replicas } });
        return;
      case 'node-ready':
        await this.nodes!.setReady(change.node, change.ready);
        return;
      case 'track':
        return;
    }
  }

  /** Takes a change back. Idempotent: undoing twice, or undoing a change never made, is harmless. */
  async undo(undo: Undo): Promise<void> {
    switch (undo.type) {
      case 'restore': {
        if (!undo.object) {
          await this.kube.delete(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name);
          return;
        }
        const current = await this.get(undo.ref);
        if (!current) {
          await this.kube.apply(undo.object);
          return;
        }
        // A merge patch from what is there to what was there: fields the change added are removed too.
        const patch = mergeDiff(restorable(current), undo.object);
        if (patch !== undefined) await this.kube.mergePatch(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name, patch as Record<string, unknown>);
        return;
      }
      case 'scale':
        if (await this.get(undo.ref)) await this.kube.mergePatch(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name, { spec: { replicas: undo.replicas } });
        return;
      case 'node-ready':
        if (!this.nodes) throw new Error(`cannot mark node ${undo.node} Ready again: this provider cannot control nodes`);
        await this.nodes.setReady(undo.node, undo.ready);
        return;
      case 'none':
        return;
    }
  }

  get(ref: ObjectRef): Promise<KubeObject | undefined> {
    return this.kube.get(ref.apiVersion, ref.kind, ref.namespace, ref.name);
  }
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`, or undefined when they are equal.
 * Only metadata's labels and annotations are compared: the rest of metadata is the server's.
 */
export function mergeDiff(from: KubeObject, to: KubeObject): Record<string, unknown> | undefined {
  const strip = (o: KubeObject) => ({ ...o, metadata: { labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {} } });
  const patch = diff(strip(from), strip(to));
  return patch === undefined ? undefined : (patch as Record<string, unknown>);
}

function diff(from: unknown, to: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(from) || !isObject(to)) return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (!(key in to)) out[key] = null;
    else {
      const d = key in from ? diff(from[key], to[key]) : to[key];
      if (d !== undefined) out[key] = d;
    }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

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
  /** A JSON merge patch to an object someone else owns (a Deployment's template, a pod's labels); undone by restoring it. */
  | { type: 'patch'; ref: ObjectRef; patch: Record<string, unknown>; why: string }
  /** Changes nothing; the revert puts the object back as it was (the control plane may change it in reaction). */
  | { type: 'track'; ref: ObjectRef; why: string };

/** How to take one change back; written to the journal before the change is made. */
export type Undo =
  /**
   * Without `object` the object did not exist: the undo deletes it, but only if it is the run's —
   * labelled with its run id, or created at or after `createdAfter` (cluster time; the control
   * plane making it in reaction to a fault, as istiod makes its CA secret).
   */
  | { type: 'restore'; ref: ObjectRef; object?: KubeObject; createdAfter?: string }
  | { type: 'scale'; ref: ObjectRef; replicas: number }
  | { type: 'node-ready'; node: string; ready: boolean }
  /** The run's lease on the cluster: deleted only while this run still holds it. */
  | { type: 'release-lease'; namespace: string; name: string; holder: string }
  | { type: 'none'; reason: string };

/** What taking a change back did: made, or left alone with why (it was not this run's to touch). */
export type UndoOutcome = { made: string } | { left: string };

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
    case 'patch':
      return `patch ${describeRef(change.ref)}: ${change.why}`;
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

/** Performs changes and their undos against a cluster, on behalf of one run. */
export class ChangeExecutor {
  constructor(
    private readonly kube: KubeClient,
    private readonly nodes?: NodeControl,
    /** The run the changes belong to: an undo deletes only objects that carry its run-id label. */
    private readonly runId?: string,
    /** Cluster time, for when an object that did not exist was first journalled. */
    private readonly now?: () => number,
  ) {}

  /** The undo of an object that is not there: delete what appears, if it appears after now. */
  private absent(ref: ObjectRef): Undo {
    return { type: 'restore', ref, ...(this.now ? { createdAfter: new Date(Math.floor(this.now() / 1000) * 1000).toISOString() } : {}) };
  }

  /** What it takes to undo a change, read from the cluster before the change is made. */
  async undoFor(change: Change): Promise<Undo> {
    switch (change.type) {
      case 'apply': {
        const ref = refOf(change.object);
        const before = await this.get(ref);
        return before ? { type: 'restore', ref, object: restorable(before) } : this.absent(ref);
      }
      case 'track': {
        const before = await this.get(change.ref);
        return before ? { type: 'restore', ref: change.ref, object: restorable(before) } : this.absent(change.ref);
      }
      case 'delete': {
        const before = await this.get(change.ref);
        return before ? { type: 'restore', ref: change.ref, object: restorable(before) } : { type: 'none', reason: `${describeRef(change.ref)} did not exist` };
      }
      case 'patch': {
        const before = await this.get(change.ref);
        if (!before) throw new Error(`cannot patch ${describeRef(change.ref)}: it does not exist`);
        return { type: 'restore', ref: change.ref, object: restorable(before) };
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
      case 'patch':
        await this.kube.mergePatch(change.ref.apiVersion, change.ref.kind, change.ref.namespace, change.ref.name, change.patch);
        return;
      case 'track':
        return;
    }
  }

  /**
   * Takes a change back. Idempotent: undoing twice, or undoing a change never made, is harmless.
   * An object the run created is deleted only while it carries the run's run-id label: anything
   * else of that name is someone else's, reported and left alone. With `dryRun`, reads only.
   */
  async undo(undo: Undo, options: { dryRun?: boolean } = {}): Promise<UndoOutcome> {
    const write = options.dryRun ? async () => undefined : async (fn: () => Promise<unknown>) => void (await fn());
    const verb = options.dryRun ? 'would ' : '';
    switch (undo.type) {
      case 'restore': {
        const current = await this.get(undo.ref);
        if (!undo.object) {
          if (!current) return { made: `${describeRef(undo.ref)} is already gone` };
          const owner = current.metadata.labels?.[RUN_ID_LABEL];
          // client-node hands timestamps back as Dates; the embedded cluster's raw JSON as strings.
          const stamp = current.metadata['creationTimestamp'];
          const created = stamp instanceof Date ? stamp.toISOString() : String(stamp ?? '');
          const appeared = undo.createdAfter !== undefined && created !== '' && Date.parse(created) >= Date.parse(undo.createdAfter);
          if (this.runId !== undefined && owner !== this.runId && !appeared) {
            return { left: `${describeRef(undo.ref)} ${owner ? `belongs to run ${owner}` : 'carries no meshdrill.dev/run-id label'} and was there before this run${created ? ` (created ${created})` : ''}, so this run did not make it; left alone` };
          }
          await write(() => this.kube.delete(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name));
          return { made: `${verb}delete ${describeRef(undo.ref)}` };
        }
        if (!current) {
          await write(() => this.kube.apply(undo.object!));
          return { made: `${verb}re-create ${describeRef(undo.ref)}` };
        }
        // A merge patch from what is there to what was there: fields the change added are removed too.
        const patch = mergeDiff(restorable(current), undo.object);
        if (patch === undefined) return { made: `${describeRef(undo.ref)} is already as it was` };
        await write(() => this.kube.mergePatch(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name, patch as Record<string, unknown>));
        return { made: `${verb}restore ${describeRef(undo.ref)}` };
      }
      case 'scale': {
        if (!(await this.get(undo.ref))) return { made: `${describeRef(undo.ref)} is gone` };
        await write(() => this.kube.mergePatch(undo.ref.apiVersion, undo.ref.kind, undo.ref.namespace, undo.ref.name, { spec: { replicas: undo.replicas } }));
        return { made: `${verb}scale ${describeRef(undo.ref)} back to ${undo.replicas}` };
      }
      case 'node-ready':
        if (!this.nodes) throw new Error(`cannot mark node ${undo.node} Ready again: this provider cannot control nodes`);
        await write(() => this.nodes!.setReady(undo.node, undo.ready));
        return { made: `${verb}mark node ${undo.node} ${undo.ready ? 'Ready' : 'NotReady'}` };
      case 'release-lease': {
        const lease = await this.kube.get('coordination.k8s.io/v1', 'Lease', undo.namespace, undo.name);
        const holder = (lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
        if (!lease) return { made: `lease ${undo.namespace}/${undo.name} is already released` };
        if (holder !== undo.holder) return { left: `lease ${undo.namespace}/${undo.name} is held by ${holder ?? 'nobody'} now; left alone` };
        await write(() => this.kube.delete('coordination.k8s.io/v1', 'Lease', undo.namespace, undo.name));
        return { made: `${verb}release lease ${undo.namespace}/${undo.name}` };
      }
      case 'none':
        return { made: undo.reason };
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

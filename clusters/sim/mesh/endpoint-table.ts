import type { StoreEvent } from '../api/types.js';

/** Ready endpoints of a Service as a config snapshot holds them: pod uids by "namespace/name". */
export interface EndpointLookup {
  get(service: string): string[] | undefined;
}

type Bucket = Map<string, string[]>;
/** Namespaces spread over a fixed number of groups, so a snapshot copies the groups, not every namespace. */
const GROUPS = 64;

function groupOf(namespace: string): number {
  let h = 0;
  for (let i = 0; i < namespace.length; i++) h = (h * 31 + namespace.charCodeAt(i)) | 0;
  return (h >>> 0) % GROUPS;
}

/**
 * Every Service's ready endpoints, kept from the store's Endpoints events. A snapshot of it shares
 * its parts with the live table until they change (copy on write): namespaces sit in 64 groups,
 * so the control plane taking a snapshot after every endpoint change copies 64 references, and a
 * change copies one group's map and one namespace's.
 */
export class EndpointTable {
  private readonly groups: Array<Map<string, Bucket>> = Array.from({ length: GROUPS }, () => new Map());
  /** Groups and buckets some snapshot holds: copied before they change. */
  private readonly handedOut = new WeakSet<object>();

  /** An Endpoints object was written or deleted. */
  apply(event: Pick<StoreEvent, 'type' | 'object'>): void {
    const ep = event.object;
    const namespace = ep.metadata.namespace ?? '';
    const g = groupOf(namespace);
    let group = this.groups[g]!;
    let bucket = group.get(namespace);
    if (event.type === 'DELETED' && !bucket?.has(ep.metadata.name)) return;
    if (this.handedOut.has(group)) {
      group = new Map(group);
      this.groups[g] = group;
    }
    if (!bucket || this.handedOut.has(bucket)) {
      bucket = new Map(bucket);
      group.set(namespace, bucket);
    }
    if (event.type === 'DELETED') {
      bucket.delete(ep.metadata.name);
      return;
    }
    const subsets = (ep['subsets'] as Array<{ addresses?: Array<{ targetRef?: { uid?: string } }> }> | undefined) ?? [];
    bucket.set(ep.metadata.name, subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.targetRef?.uid ?? '')));
  }

  /** The table as it is now; later changes do not reach it. */
  snapshot(): EndpointLookup {
    for (const group of this.groups) {
      if (this.handedOut.has(group)) continue;
      this.handedOut.add(group);
      for (const bucket of group.values()) this.handedOut.add(bucket);
    }
    const groups = [...this.groups];
    return {
      get(service) {
        const slash = service.indexOf('/');
        const namespace = service.slice(0, slash);
        return groups[groupOf(namespace)]!.get(namespace)?.get(service.slice(slash + 1));
      },
    };
  }

  /** Every entry, for another cluster's control plane to merge. */
  entries(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const group of this.groups) for (const [namespace, bucket] of group) for (const [name, uids] of bucket) out.set(`${namespace}/${name}`, uids);
    return out;
  }
}

/** A table's snapshot with other clusters' endpoints added (Istio multi-primary merges Services by name). */
export function mergedEndpoints(local: Map<string, string[]>, remotes: Array<Map<string, string[]>>): EndpointLookup {
  const merged = new Map(local);
  for (const remote of remotes) for (const [key, uids] of remote) merged.set(key, [...(merged.get(key) ?? []), ...uids]);
  return { get: (service) => merged.get(service) };
}

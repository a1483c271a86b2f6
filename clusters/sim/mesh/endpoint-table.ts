import type { StoreEvent } from '../api/types.js';

/** Ready endpoints of a Service as a config snapshot holds them: pod uids by "namespace/name". */
export interface EndpointLookup {
  get(service: string): string[] | undefined;
}

type Buckets = Map<string, Map<string, string[]>>;

/**
 * Every Service's ready endpoints, kept from the store's Endpoints events. A snapshot of it shares
 * each namespace's entries with the live table until that namespace changes (copy on write), so
 * the control plane taking a snapshot after every endpoint change costs one step per namespace,
 * not one per Service.
 */
export class EndpointTable {
  private live: Buckets = new Map();
  /** Buckets some snapshot holds: copied before they change. */
  private readonly handedOut = new WeakSet<Map<string, string[]>>();

  /** An Endpoints object was written or deleted. */
  apply(event: Pick<StoreEvent, 'type' | 'object'>): void {
    const ep = event.object;
    const namespace = ep.metadata.namespace ?? '';
    let bucket = this.live.get(namespace);
    if (event.type === 'DELETED' && !bucket?.has(ep.metadata.name)) return;
    if (!bucket || this.handedOut.has(bucket)) {
      bucket = new Map(bucket);
      this.live.set(namespace, bucket);
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
    for (const bucket of this.live.values()) this.handedOut.add(bucket);
    return lookup(new Map(this.live));
  }

  /** Every entry, for another cluster's control plane to merge. */
  entries(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [namespace, bucket] of this.live) for (const [name, uids] of bucket) out.set(`${namespace}/${name}`, uids);
    return out;
  }
}

function lookup(buckets: Buckets): EndpointLookup {
  return {
    get(service) {
      const slash = service.indexOf('/');
      return buckets.get(service.slice(0, slash))?.get(service.slice(slash + 1));
    },
  };
}

/** A table's snapshot with other clusters' endpoints added (Istio multi-primary merges Services by name). */
export function mergedEndpoints(local: Map<string, string[]>, remotes: Array<Map<string, string[]>>): EndpointLookup {
  const merged = new Map(local);
  for (const remote of remotes) for (const [key, uids] of remote) merged.set(key, [...(merged.get(key) ?? []), ...uids]);
  return { get: (service) => merged.get(service) };
}

import type { KubeObject, StoreEvent, WatchEventType } from './types.js';

/** Freezes an object and everything in it: stored objects are shared with readers and must not change under them. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return value;
}

/**
 * A deep copy of JSON-shaped data (what the API stores and sends), several times faster than
 * structuredClone on it. Anything else (a Date, a class instance) is copied by structuredClone.
 */
export function copyJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = copyJson((value as Record<string, unknown>)[key]);
    // A "__proto__" key from JSON is data, as structuredClone keeps it: never the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true });
    else out[key] = child;
  }
  return out as T;
}

/**
 * The object store: every object by resource key and namespace/name, one global resourceVersion
 * counter, and a bounded log of changes for watches that resume from a resourceVersion.
 * Stored objects are frozen: every write stores a new object, and readers clone what they change.
 */
export class ObjectStore {
  private rv = 0;
  /** resource key → namespace ('' for cluster-scoped) → name → object. */
  private readonly objects = new Map<string, Map<string, Map<string, KubeObject>>>();
  private readonly log: StoreEvent[] = [];
  private logStart = 0;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(private readonly logCapacity = 50_000) {}

  currentRv(): number {
    return this.rv;
  }

  nextRv(): number {
    return ++this.rv;
  }

  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(key)?.get(namespace ?? '')?.get(name);
  }

  list(key: string, namespace?: string): KubeObject[] {
    const bucket = this.objects.get(key);
    if (!bucket) return [];
    if (namespace !== undefined) return [...(bucket.get(namespace)?.values() ?? [])];
    const out: KubeObject[] = [];
    for (const names of bucket.values()) for (const o of names.values()) out.push(o);
    return out;
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  count(key: string): number {
    let n = 0;
    for (const names of this.objects.get(key)?.values() ?? []) n += names.size;
    return n;
  }

  /** Stores an object whose metadata (uid, resourceVersion…) the caller has already set. */
  put(key: string, object: KubeObject, type: WatchEventType): void {
    this.slot(key, object.metadata.namespace).set(object.metadata.name, deepFreeze(object));
    this.emit({ type, key, rv: Number(object.metadata.resourceVersion), object });
  }

  private slot(key: string, namespace: string | undefined): Map<string, KubeObject> {
    let bucket = this.objects.get(key);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(key, bucket);
    }
    let names = bucket.get(namespace ?? '');
    if (!names) {
      names = new Map();
      bucket.set(namespace ?? '', names);
    }
    return names;
  }

  remove(key: string, object: KubeObject): void {
    deepFreeze(object);
    this.objects.get(key)?.get(object.metadata.namespace ?? '')?.delete(object.metadata.name);
    this.emit({ type: 'DELETED', key, rv: Number(object.metadata.resourceVersion), object });
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after `rv`, or 'gone' when the log no longer reaches back that far. */
  eventsSince(rv: number, key?: string): StoreEvent[] | 'gone' {
    if (rv < this.logStart) return 'gone';
    const out: StoreEvent[] = [];
    // The log is in rv order: binary-search the first event after rv.
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.log.length; i++) {
      const event = this.log[i]!;
      if (key === undefined || event.key === key) out.push(event);
    }
    return out;
  }

  /** Everything, for snapshots. */
  dump(): { rv: number; objects: Array<{ key: string; object: KubeObject }> } {
    const objects: Array<{ key: string; object: KubeObject }> = [];
    for (const key of this.objects.keys()) for (const object of this.list(key)) objects.push({ key, object });
    return { rv: this.rv, objects };
  }

  restore(state: { rv: number; objects: Array<{ key: string; object: KubeObject }> }): void {
    this.objects.clear();
    this.log.length = 0;
    for (const { key, object } of state.objects) this.slot(key, object.metadata.namespace).set(object.metadata.name, deepFreeze(object));
    this.rv = state.rv;
    this.logStart = state.rv;
  }

  private emit(event: StoreEvent): void {
    this.log.push(event);
    // Trim in batches so a full log costs amortised O(1) per event.
    if (this.log.length > this.logCapacity * 1.25) {
      const drop = this.log.length - this.logCapacity;
      this.logStart = this.log[drop - 1]!.rv;
      this.log.splice(0, drop);
    }
    for (const listener of this.listeners) listener(event);
  }
}


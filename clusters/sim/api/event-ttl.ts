import type { Clock, TimerHandle } from '../../../core/index.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/**
 * How long an Event lives after its last write: kube-apiserver's --event-ttl, 1 h by default. The
 * registry stores events with an etcd lease of that length on create and on update, and etcd
 * drops the key when the lease runs out; watchers see the event deleted (kube-apiserver flag
 * reference; kubernetes/kubernetes#124836: "kube-apiserver default event ttl is 1h").
 */
export const EVENT_TTL_MS = 3_600_000;

const EVENTS_KEY = 'events';

/**
 * Deletes each Event an --event-ttl after its last write. The time to live is the same for every
 * event, so they expire in the order they were written: a queue in write order and one timer, for
 * the oldest, at a time.
 */
export class EventExpiry {
  private readonly queue: Array<{ at: number; namespace: string; name: string; resourceVersion: string }> = [];
  private head = 0;
  private timer?: TimerHandle;

  constructor(
    store: ObjectStore,
    private readonly clock: Clock,
    /** Deletes the event if it is still the version written then (a later write has its own turn). */
    private readonly expire: (namespace: string, name: string, resourceVersion: string) => void,
    readonly ttlMs = EVENT_TTL_MS,
  ) {
    store.subscribe((event) => {
      if (event.key === EVENTS_KEY && event.type !== 'DELETED') this.track(event.object, this.clock.now());
    });
  }

  /** An event written at `writtenAt` (ms): it expires a time to live later. */
  track(event: KubeObject, writtenAt: number): void {
    const { namespace, name, resourceVersion } = event.metadata;
    this.queue.push({ at: writtenAt + this.ttlMs, namespace: namespace ?? '', name, resourceVersion: resourceVersion ?? '' });
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.head >= this.queue.length) return;
    this.timer = this.clock.setTimer(this.queue[this.head]!.at - this.clock.now(), () => {
      this.timer = undefined;
      this.fire();
    });
  }

  private fire(): void {
    const now = this.clock.now();
    while (this.head < this.queue.length && this.queue[this.head]!.at <= now) {
      const { namespace, name, resourceVersion } = this.queue[this.head++]!;
      this.expire(namespace, name, resourceVersion);
    }
    // Drop what has expired once it is most of the queue (amortised O(1) per event).
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}

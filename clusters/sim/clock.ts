import type { Clock, TimerHandle } from '../../core/index.js';

interface PendingTimer {
  due: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** Whether timer a fires before b: earlier due, ties in creation order. */
function before(a: PendingTimer, b: PendingTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * Virtual time: nothing happens until `advance` is called; timers then fire in due order
 * (ties in creation order), each followed by `afterEach` (the cluster settles its controllers there).
 * Pending timers sit in a binary heap, so a mesh of thousands of proxies (each with its renewal and
 * reconnect timers) pays O(log n) per timer, not a scan of all of them.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private heap: PendingTimer[] = [];
  private cancelledInHeap = 0;
  afterEach: () => void = () => {};

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.push(timer);
    return {
      cancel: () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        this.cancelledInHeap++;
        this.compact();
      },
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      next.cancelled = true;
      next.callback();
      this.afterEach();
      // Let promise continuations (sleepers) run before the next timer.
      await Promise.resolve();
    }
    this.current = target;
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.heap.length - this.cancelledInHeap;
  }

  /** Takes the first live timer due by `limit` off the heap. */
  private nextDue(limit: number): PendingTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      if (top.cancelled) {
        this.pop();
        this.cancelledInHeap--;
        continue;
      }
      if (top.due > limit) return undefined;
      this.pop();
      return top;
    }
  }

  /** Rebuilds the heap without cancelled timers once they are most of it (renewals cancelled and set again). */
  private compact(): void {
    if (this.cancelledInHeap < 1024 || this.cancelledInHeap * 2 < this.heap.length) return;
    const live = this.heap.filter((t) => !t.cancelled);
    this.heap = [];
    this.cancelledInHeap = 0;
    for (const timer of live) this.push(timer);
  }

  private push(timer: PendingTimer): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

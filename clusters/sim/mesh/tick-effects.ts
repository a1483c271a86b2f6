import type { Proxy } from './twin.js';

/** A number the metric store keeps and a tick adds to or sets: a counter's or a gauge's value. */
export interface MetricValue {
  value: number;
}

const OUTCOME = 0;
const LOAD = 1;
const ADD = 2;
const SET = 3;

/**
 * What one tick of traffic did, in the order it did it: requests added to outcomes waiting for
 * the metric store, to proxies' load, to counters, and gauges set. A tick that starts from the same
 * inputs (nothing the traffic model reads has moved: the twin's state stamp, the proxies' load,
 * the entry rates) and before any certificate it relied on expires would work out exactly the same
 * effects; applying these again gives the same numbers to the last bit, since the same additions
 * happen in the same order. The numbers only: what a tick noted once (series declared, things not
 * modelled) is there already.
 */
export class TickEffects {
  private readonly kinds: number[] = [];
  private readonly targets: unknown[] = [];
  private readonly amounts: number[] = [];
  /** When the first certificate the tick's decisions found valid expires. */
  validUntil = Number.POSITIVE_INFINITY;

  outcome(pending: object, n: number): void {
    this.push(OUTCOME, pending, n);
  }

  load(proxy: Proxy, n: number): void {
    this.push(LOAD, proxy, n);
  }

  add(metric: MetricValue, n: number): void {
    this.push(ADD, metric, n);
  }

  set(metric: MetricValue, value: number): void {
    this.push(SET, metric, value);
  }

  /** Decisions the tick used hold until `until`. */
  holdsUntil(until: number): void {
    if (until < this.validUntil) this.validUntil = until;
  }

  get size(): number {
    return this.kinds.length;
  }

  /** Does it all again: outcomes and load through the traffic model's own bookkeeping, metrics directly. */
  replay<P extends object>(to: { outcome(pending: P, n: number): void; load(proxy: Proxy, n: number): void }): void {
    const { kinds, targets, amounts } = this;
    for (let i = 0; i < kinds.length; i++) {
      const n = amounts[i]!;
      switch (kinds[i]) {
        case OUTCOME:
          to.outcome(targets[i] as P, n);
          break;
        case LOAD:
          to.load(targets[i] as Proxy, n);
          break;
        case ADD:
          (targets[i] as MetricValue).value += n;
          break;
        default:
          (targets[i] as MetricValue).value = n;
      }
    }
  }

  private push(kind: number, target: unknown, n: number): void {
    this.kinds.push(kind);
    this.targets.push(target);
    this.amounts.push(n);
  }
}

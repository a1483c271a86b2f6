/** A number the metric store keeps and a tick adds to or sets: a counter's or a gauge's value. */
export interface MetricValue {
  value: number;
}

const OUTCOME = 0;
const ADD = 1;
const SET = 2;

/**
 * What one tick of traffic did, in the order it did it: requests added to outcomes waiting for
 * the metric store and to counters, and gauges set. (The proxies' load is not among them: the
 * same requests cost the same, so a repeated tick keeps the recorded tick's costs, ProxyLoad.repeatTick.) A tick that starts from the same
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

  /** Does it all again: outcomes through the traffic model's own bookkeeping, metrics directly. */
  replay<P extends object>(outcome: (pending: P, n: number) => void): void {
    const { kinds, targets, amounts } = this;
    for (let i = 0; i < kinds.length; i++) {
      const n = amounts[i]!;
      switch (kinds[i]) {
        case OUTCOME:
          outcome(targets[i] as P, n);
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

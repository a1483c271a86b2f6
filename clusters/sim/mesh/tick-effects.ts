import type { MetricStore, SlotAdds } from './metrics.js';

/** A number the metric store keeps and a tick adds to or sets: a counter's or a gauge's value. */
export interface MetricValue {
  value: number;
}

const ADD = 0;
const SET = 1;

/**
 * What one tick of traffic did to the metric store, in the order it did it: counters added to and
 * gauges set as requests went (retries, overflows, mirrored requests), then, as the tick ended,
 * its outcomes' additions to request counters and histograms. A tick that starts from the same
 * inputs (nothing the traffic model reads has moved: the twin's state stamp, the proxies' load,
 * the entry rates) and before any certificate it relied on expires would work out exactly the same;
 * doing these again gives the same numbers to the last bit, since the same additions happen in the
 * same order. The numbers only: what a tick noted once (series declared, things not modelled) is
 * there already. The proxies' load is not among them either: the same requests cost the same, so a
 * repeated tick keeps the recorded tick's costs (ProxyLoad.repeatTick).
 */
export class TickEffects {
  private readonly kinds: number[] = [];
  private readonly targets: MetricValue[] = [];
  private readonly amounts: number[] = [];
  /** The outcomes' additions as the tick ended (TrafficModel.flush). */
  readonly outcomes: SlotAdds = { slots: [], amounts: [] };
  /** When the first certificate the tick's decisions found valid expires. */
  validUntil = Number.POSITIVE_INFINITY;

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

  /** Does it all again, in the same order. */
  replay(metrics: MetricStore): void {
    const { kinds, targets, amounts } = this;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] === ADD) targets[i]!.value += amounts[i]!;
      else targets[i]!.value = amounts[i]!;
    }
    metrics.applyAdds(this.outcomes);
  }

  private push(kind: number, target: MetricValue, n: number): void {
    this.kinds.push(kind);
    this.targets.push(target);
    this.amounts.push(n);
  }
}

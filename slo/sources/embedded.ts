import type { MetricStore } from '../../clusters/index.js';
import { sliQuery, type SliQuery, type DataPlaneMode, type MeshName } from '../../meshes/index.js';
import type { SliKey } from '../../model/index.js';
import type { Scope } from '../schema.js';
import type { Measurement, SliSource, Window } from '../types.js';

/**
 * SLIs from the embedded cluster's metric store over virtual-time windows: the same queries the
 * Prometheus source renders as PromQL, evaluated directly.
 */
export class EmbeddedSource implements SliSource {
  readonly name: string;
  private readonly queryOf: (sli: SliKey, scope: Scope) => SliQuery;

  constructor(
    private readonly metrics: MetricStore,
    mesh: MeshName,
    mode: DataPlaneMode = 'sidecar',
    /** Another set of queries over the same store (the callers' view), under its own name. */
    options: { name?: string; queryOf?: (sli: SliKey, scope: Scope) => SliQuery } = {},
  ) {
    this.name = options.name ?? 'embedded';
    this.queryOf = options.queryOf ?? ((sli, scope) => sliQuery(mesh, mode, sli, scope));
  }

  async measure(sli: SliKey, scope: Scope, window: Window): Promise<Measurement> {
    try {
      return { ...this.evaluate(this.queryOf(sli, scope), window), window, source: this.name };
    } catch (error) {
      return { value: Number.NaN, samples: 0, window, source: this.name, error: (error as Error).message };
    }
  }

  private evaluate(query: SliQuery, { from, to }: Window): { value: number; samples: number } {
    const m = this.metrics;
    switch (query.kind) {
      case 'ratio': {
        const numeratorMetric = query.numeratorMetric ?? query.metric;
        const numerator = query.absentNumerator === 'no-data' && m.count(numeratorMetric, query.numerator) === 0 ? Number.NaN : m.increase(numeratorMetric, query.numerator, from, to);
        const denominator = m.increase(query.metric, query.denominator, from, to);
        return { value: denominator > 0 ? (query.scale * numerator) / denominator : Number.NaN, samples: denominator };
      }
      case 'quantile':
        return { value: query.scale * m.quantile(query.metric, query.filters, query.q, from, to), samples: m.increase(`${query.metric}_count`, query.filters, from, to) };
      case 'gauge': {
        const raw = m.gauge(query.metric, query.filters, to, query.reduce);
        return { value: query.scale * (query.ageOfMs ? to - raw : query.timestamp ? raw - to / 1000 : raw), samples: m.count(query.metric, query.filters) };
      }
      case 'rate': {
        const seconds = (to - from) / 1000;
        if (query.presence) {
          const present = m.count(query.presence.metric, query.presence.filters);
          return { value: present === 0 || seconds <= 0 ? Number.NaN : (query.scale * m.increase(query.metrics[0]!, query.filters, from, to)) / seconds, samples: present };
        }
        const samples = m.count(query.metrics[0]!, query.filters);
        if (samples === 0 || seconds <= 0) return { value: Number.NaN, samples: 0 };
        if (query.reduce === 'max') return { value: query.scale * Math.max(...m.increases(query.metrics[0]!, query.filters, from, to).map((s) => s.value / seconds)), samples };
        // As PromQL's "+" of sums: no series of any one counter is no data.
        if (query.metrics.some((metric) => m.count(metric, query.filters) === 0)) return { value: Number.NaN, samples };
        return { value: (query.scale * query.metrics.reduce((sum, metric) => sum + m.increase(metric, query.filters, from, to), 0)) / seconds, samples };
      }
      case 'share': {
        const values = m.valuesAt(query.metric, query.filters, to).map((s) => s.value).filter((v) => !Number.isNaN(v));
        return { value: values.length ? (query.scale * values.reduce((a, b) => a + b, 0)) / values.length : Number.NaN, samples: values.length };
      }
    }
  }
}

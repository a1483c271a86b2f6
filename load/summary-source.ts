import type { LoadResult } from './types.js';
import type { SliKey } from '../model/index.js';
import type { Scope, Measurement, SliSource, Window } from '../slo/index.js';

/**
 * SLIs from a load run's end-of-test summary: what the load generator saw, over the run's main
 * window. It sees the whole mesh from outside, so only mesh-wide scopes have values; a plaintext
 * call reset by STRICT shows up here when no proxy reports it (mesh-facts §1.5).
 */
export class LoadSummarySource implements SliSource {
  readonly name = 'load-summary';

  constructor(private readonly result: LoadResult) {}

  /** The window is the run's own; the one asked for is ignored. */
  async measure(sli: SliKey, scope: Scope, _window?: Window): Promise<Measurement> {
    const base = { window: this.result.window, source: this.name };
    if (scope.namespace || scope.service || scope.edge) {
      return { ...base, value: Number.NaN, samples: 0, error: `the load summary covers the whole mesh as its client saw it; scope ${JSON.stringify(scope)} needs Prometheus or the embedded source` };
    }
    const samples = this.result.requests;
    switch (sli) {
      case 'success-rate':
        return { ...base, value: this.result.successRate, samples };
      case 'error-rate-5xx':
        return { ...base, value: samples > 0 ? (100 * this.result.failed) / samples : Number.NaN, samples };
      case 'latency-p50':
        return { ...base, value: this.result.latency.p50, samples };
      case 'latency-p95':
        return { ...base, value: this.result.latency.p95, samples };
      case 'latency-p99':
        return { ...base, value: this.result.latency.p99, samples };
      default:
        return { ...base, value: Number.NaN, samples: 0, error: `a load summary has no ${sli}` };
    }
  }
}

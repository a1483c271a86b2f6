import type { MetricStore } from '../../clusters/index.js';
import type { SliKey } from '../../model/index.js';
import type { Scope } from '../schema.js';
import type { Measurement, SliSource, Window } from '../types.js';

const REQUESTS = 'meshdrill_client_requests_total';
const DURATION = 'meshdrill_client_request_duration_milliseconds';

/**
 * SLIs as the callers saw them on the embedded cluster: every workload's own client view (what an
 * application's HTTP client library records), independent of any proxy. It exists before a
 * namespace is meshed, so it gives unmeshed baselines; and it sees what no proxy reports — a
 * plaintext call reset by a STRICT server never reaches the server's telemetry (mesh-facts §1.5).
 */
export class ClientViewSource implements SliSource {
  readonly name = 'client-view';

  constructor(private readonly metrics: MetricStore) {}

  async measure(sli: SliKey, scope: Scope, window: Window): Promise<Measurement> {
    const base = { window, source: this.name };
    const match = filters(scope);
    const m = this.metrics;
    const count = (extra: Record<string, string>) => m.increase(REQUESTS, { ...match, ...extra }, window.from, window.to);
    const total = count({});
    const ratio = (part: number) => ({ ...base, value: total > 0 ? (100 * part) / total : Number.NaN, samples: total });
    switch (sli) {
      case 'success-rate':
        return ratio(count({ outcome: 'success' }));
      case 'error-rate-5xx':
        // A connection reset has no status; callers see it as a failure, so it counts with the 5xx.
        return ratio(count({ code: '~5..|0' }));
      case 'error-rate-4xx':
        return ratio(count({ code: '~4..' }));
      case 'latency-p50':
      case 'latency-p95':
      case 'latency-p99': {
        const q = { 'latency-p50': 0.5, 'latency-p95': 0.95, 'latency-p99': 0.99 }[sli];
        return { ...base, value: m.quantile(DURATION, match, q, window.from, window.to), samples: m.increase(`${DURATION}_count`, match, window.from, window.to) };
      }
      default:
        return { ...base, value: Number.NaN, samples: 0, error: `the callers' view has no ${sli}; it is a mesh SLI (use source: mesh)` };
    }
  }
}

function filters(scope: Scope): Record<string, string> {
  if (scope.edge) {
    const [fromNs, fromSvc] = scope.edge.from.split('/') as [string, string];
    const [toNs, toSvc] = scope.edge.to.split('/') as [string, string];
    return { source_namespace: fromNs, source_workload: fromSvc, destination_namespace: toNs, destination_service: toSvc };
  }
  if (scope.service) {
    const [ns, svc] = scope.service.split('/') as [string, string];
    return { destination_namespace: ns, destination_service: svc };
  }
  if (scope.namespace) return { destination_namespace: scope.namespace };
  return {};
}

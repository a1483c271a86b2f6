import { ConfigError } from '../../core/index.js';
import type { SliQuery } from '../../meshes/index.js';
import type { Scope, SliKey } from '../../model/index.js';
import type { PrometheusClient } from '../prometheus-client.js';
import { PrometheusSource } from './prometheus.js';

// k6's Prometheus remote-write output names every series k6_<metric> (counters with _total, trends
// as native histograms in base units: k6_http_req_duration_seconds) and carries the request's tags
// as labels: the script's phase and service, k6's status and expected_response, the run's testid
// (grafana.com/docs/k6 "Prometheus remote write", metrics mapping).
const REQUESTS = 'k6_http_reqs_total';
const DURATION = 'k6_http_req_duration_seconds';
const QUANTILES: Partial<Record<SliKey, number>> = { 'latency-p50': 0.5, 'latency-p95': 0.95, 'latency-p99': 0.99 };

function filters(scope: Scope, testId: string | undefined): Record<string, string> {
  const base = { phase: 'main', ...(testId ? { testid: testId } : {}) };
  if (scope.edge) throw new ConfigError('k6 sends the requests into the entrypoints only: an edge between services is not in its view (use source: mesh)');
  if (scope.service) return { ...base, service: scope.service };
  if (scope.namespace) return { ...base, service: `~${scope.namespace}/.*` };
  return base;
}

/**
 * The callers' view as k6 recorded it, from the series it remote-wrote: what the load generator
 * saw of the entrypoints, resets included (status 0), before any proxy could report them.
 */
export function k6ViewQuery(sli: SliKey, scope: Scope, testId?: string): SliQuery {
  const match = filters(scope, testId);
  switch (sli) {
    case 'success-rate':
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, expected_response: 'true' }, denominator: match, scale: 100 };
    case 'error-rate-5xx':
      // k6 gives a request that got no response status 0: callers see it as a failure.
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, status: '~5..|0' }, denominator: match, scale: 100 };
    case 'error-rate-4xx':
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, status: '~4..' }, denominator: match, scale: 100 };
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return { kind: 'quantile', metric: DURATION, filters: match, q: QUANTILES[sli]!, scale: 1000, native: true };
    default:
      throw new ConfigError(`k6's view has no ${sli}; it is a mesh SLI (use source: mesh)`);
  }
}

/** The callers' view through the Prometheus k6 remote-writes to, for the run tagged `testId`. */
export function k6ViewOver(client: PrometheusClient, testId?: string): PrometheusSource {
  return new PrometheusSource(client, 'istio', 'sidecar', { name: 'k6', queryOf: (sli, scope) => k6ViewQuery(sli, scope, testId) });
}

import type { MetricStore } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import { callersSliQuery, type DataPlaneMode, type MeshName, type SliQuery } from '../../meshes/index.js';
import type { Scope, SliKey } from '../../model/index.js';
import type { PrometheusClient } from '../prometheus-client.js';
import { EmbeddedSource } from './embedded.js';
import { PrometheusSource } from './prometheus.js';

const REQUESTS = 'meshdrill_client_requests_total';
const DURATION = 'meshdrill_client_request_duration_milliseconds';
const QUANTILES: Partial<Record<SliKey, number>> = { 'latency-p50': 0.5, 'latency-p95': 0.95, 'latency-p99': 0.99 };

/**
 * SLIs as the callers saw them on the embedded cluster: every workload's own client view (what an
 * application's HTTP client library records), independent of any proxy. It exists before a
 * namespace is meshed, so it gives unmeshed baselines; and it sees what no proxy reports — a
 * plaintext call reset by a STRICT server never reaches the server's telemetry (mesh-facts §1.5).
 * The same description is evaluated over the store in process, or as PromQL over a served cluster.
 */
export function clientViewQuery(sli: SliKey, scope: Scope): SliQuery {
  const match = filters(scope);
  switch (sli) {
    case 'success-rate':
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, outcome: 'success' }, denominator: match, scale: 100 };
    case 'error-rate-5xx':
      // A connection reset has no status; callers see it as a failure, so it counts with the 5xx.
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, code: '~5..|0' }, denominator: match, scale: 100 };
    case 'error-rate-4xx':
      return { kind: 'ratio', metric: REQUESTS, numerator: { ...match, code: '~4..' }, denominator: match, scale: 100 };
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return { kind: 'quantile', metric: DURATION, filters: match, q: QUANTILES[sli]!, scale: 1 };
    default:
      throw new ConfigError(`the callers' view has no ${sli}; it is a mesh SLI (use source: mesh)`);
  }
}

/** The callers' view over the embedded cluster's store, in process. */
export class ClientViewSource extends EmbeddedSource {
  constructor(metrics: MetricStore) {
    super(metrics, 'istio', 'sidecar', { name: 'client-view', queryOf: clientViewQuery });
  }
}

/** The callers' view through the Prometheus API a served embedded cluster answers. */
export function clientViewOver(client: PrometheusClient): PrometheusSource {
  return new PrometheusSource(client, 'istio', 'sidecar', { name: 'client-view', queryOf: clientViewQuery });
}

/**
 * On a real cluster, the callers' view is what the meshed callers' proxies report about the
 * requests they send (meshes/promql.ts callersSliQuery): a namespace not meshed yet has a baseline
 * as soon as one of its callers is.
 */
export function meshedCallersOver(client: PrometheusClient, mesh: MeshName, mode: DataPlaneMode, callers?: string[]): PrometheusSource {
  return new PrometheusSource(client, mesh, mode, { name: callers ? `meshed callers in ${callers.join(', ')}` : 'meshed-callers', queryOf: (sli, scope) => callersSliQuery(mesh, mode, sli, scope, callers) });
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

import { z } from 'zod';
import { DnsName } from './document.js';
import { ServiceRef } from './topology.js';

/** The unit an objective is written in: "99.9%", "250ms", "512MiB" or a plain number. */
export type ObjectiveUnit = 'percent' | 'duration' | 'bytes' | 'number';

/** The SLIs meshdrill can measure, with the unit their objectives are written in. */
export const SLI_UNITS = {
  'success-rate': 'percent',
  'error-rate-4xx': 'percent',
  'error-rate-5xx': 'percent',
  'latency-p50': 'duration',
  'latency-p95': 'duration',
  'latency-p99': 'duration',
  // Share of requests into the scope that arrived without mTLS; evidence for all-callers-meshed.
  'plaintext-share': 'percent',
  'retries-per-request': 'number',
  // Share of the callers' requests their own proxies refused because a circuit breaker (a
  // DestinationRule connection pool) was full: Envoy's 503 UO.
  'circuit-breaker-trips': 'percent',
  'cert-min-remaining': 'duration',
  'proxy-config-age': 'duration',
  'proxy-memory': 'bytes',
  // The busiest proxy's CPU in cores (cAdvisor's container_cpu_usage_seconds_total rate).
  'proxy-cpu': 'number',
  // Proxy container restarts per hour in the scope (kube-state-metrics).
  'proxy-restarts': 'number',
  // mTLS handshakes the scope's proxies failed, per minute.
  'tls-handshake-failures': 'number',
  // Share of the scope's proxies whose metrics Prometheus is scraping (up == 1).
  'telemetry-ingestion': 'percent',
  'push-latency': 'duration',
  // Escape hatch: a raw PromQL query whose result is compared as a plain number.
  promql: 'number',
} as const satisfies Record<string, ObjectiveUnit>;

export type SliKey = keyof typeof SLI_UNITS;

/** SLIs a mesh has no metric for, with why: a validation error where a plan on that mesh uses them. */
export const SLI_UNAVAILABLE: Partial<Record<SliKey, { linkerd?: string; istio?: string; ambient?: string }>> = {
  'proxy-config-age': {
    linkerd: 'proxy-config-age reads Envoy\'s cluster_manager.cds.update_time; linkerd2-proxy exposes no time of its last discovery update (its destination lookups are long-lived streams), so it is not available on Linkerd',
    ambient: 'proxy-config-age reads the sidecars\' Envoy cluster_manager.cds.update_time; ztunnel exposes no time of its last config update, so it is not available on Istio ambient',
  },
  'push-latency': { linkerd: 'push-latency is an Istio control-plane metric (pilot_proxy_convergence_time); Linkerd has no equivalent' },
  'tls-handshake-failures': { ambient: 'tls-handshake-failures reads the sidecars\' Envoy listener TLS stats; ztunnel exposes no per-workload handshake failures, so it is not available on Istio ambient' },
  'circuit-breaker-trips': { linkerd: 'circuit-breaker-trips reads Envoy\'s upstream_rq_pending_overflow; Linkerd has no connection-pool circuit breaker to trip (its failure accrual is not exposed as a metric), so it is not available on Linkerd' },
};
export const SLI_NAMES = Object.keys(SLI_UNITS) as [SliKey, ...SliKey[]];

/** What each SLI means, for the README's table, `--help` and the JSON Schemas. */
export const SLI_DESCRIPTIONS: Record<SliKey, string> = {
  'success-rate': 'share of requests into the scope that did not fail with a 5xx (percent)',
  'error-rate-4xx': 'share of requests answered 4xx (percent)',
  'error-rate-5xx': 'share of requests answered 5xx; in the callers\' view, resets count too (percent)',
  'latency-p50': 'median request latency at the destination\'s proxy (duration)',
  'latency-p95': '95th-percentile request latency (duration)',
  'latency-p99': '99th-percentile request latency (duration)',
  'plaintext-share': 'share of requests into the scope that arrived without mTLS, as the destination reports it (percent)',
  'retries-per-request': 'retries the callers\' proxies made per request (number)',
  'circuit-breaker-trips': 'share of the callers\' requests their proxies refused because a connection pool was full, Envoy\'s 503 UO; Istio only (percent)',
  'cert-min-remaining': 'the shortest time any workload certificate in the scope has left (duration)',
  'proxy-config-age': 'the longest time since a sidecar in the scope last received its clusters from istiod; Istio sidecars only (duration)',
  'proxy-memory': 'the largest proxy container working set in the scope (bytes)',
  'proxy-cpu': 'the busiest proxy container\'s CPU in the scope, in cores; ztunnel on ambient (number)',
  'proxy-restarts': 'proxy container restarts per hour in the scope, from kube-state-metrics (number)',
  'tls-handshake-failures': 'mTLS handshakes into the scope\'s proxies that failed, per minute (number)',
  'telemetry-ingestion': 'share of the scope\'s proxies whose metrics Prometheus scrapes successfully: up == 1 (percent)',
  'push-latency': 'the 99th percentile of istiod\'s config push convergence time; Istio only (duration)',
  promql: 'a raw PromQL query, compared as a plain number',
};

/**
 * What one sample of an SLI is: a request (or push) counted in the window, or a series — one
 * proxy, one certificate — whose current value is read. A hundred requests are a sane floor for a
 * rate; a gauge over the proxies of a small namespace has a handful of series, and one is enough.
 */
export const SLI_SAMPLE_KIND: Record<SliKey, 'requests' | 'series'> = {
  'success-rate': 'requests',
  'error-rate-4xx': 'requests',
  'error-rate-5xx': 'requests',
  'latency-p50': 'requests',
  'latency-p95': 'requests',
  'latency-p99': 'requests',
  'plaintext-share': 'requests',
  'retries-per-request': 'requests',
  'circuit-breaker-trips': 'requests',
  'cert-min-remaining': 'series',
  'proxy-config-age': 'series',
  'proxy-memory': 'series',
  'proxy-cpu': 'series',
  'proxy-restarts': 'series',
  'tls-handshake-failures': 'series',
  'telemetry-ingestion': 'series',
  'push-latency': 'requests',
  promql: 'series',
};

/** The minSamples a gate or SLO gets when it names none: 100 requests, or one series. */
export function defaultMinSamples(sli: SliKey): number {
  return SLI_SAMPLE_KIND[sli] === 'requests' ? 100 : 1;
}

export const SliName = z.enum(SLI_NAMES).describe(`What is measured: ${SLI_NAMES.map((n) => `${n} — ${SLI_DESCRIPTIONS[n]}`).join('; ')}.`);
export type SliName = z.infer<typeof SliName>;

export const Scope = z
  .object({
    namespace: DnsName.optional().describe('All services of one namespace.'),
    service: ServiceRef.optional().describe('One service, "namespace/service".'),
    edge: z
      .object({ from: ServiceRef, to: ServiceRef })
      .strict()
      .optional()
      .describe('Calls from one service to another.'),
  })
  .strict()
  .refine((scope) => [scope.namespace, scope.service, scope.edge].filter((x) => x !== undefined).length <= 1, {
    error: 'expected at most one of namespace, service, edge (none means the whole mesh)',
  })
  .describe('Where an SLI is measured: the whole mesh (empty), a namespace, a service or an edge.');
export type Scope = z.infer<typeof Scope>;

/** Whose view an SLI is measured from. */
export const SliSourceKind = z
  .enum(['mesh', 'client'])
  .describe('mesh: the proxies\' telemetry (the default). client: the callers\' own view — sees connections reset before any proxy reports them, and exists before a namespace is meshed.');
export type SliSourceKind = z.infer<typeof SliSourceKind>;


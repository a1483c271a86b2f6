import { ConfigError } from '../core/index.js';
import { SLI_UNAVAILABLE, type SliKey, type Scope } from '../model/index.js';
import type { DataPlaneMode, MeshName } from './types.js';

// Each SLI on each mesh's own metric names (../shared/reference/mesh-facts.md §1.8, §2.4), as a
// description that both renders PromQL and drives the embedded cluster's metric store, so the
// two sources compute the same thing. Percent SLIs come out in percent, durations in ms.

export type Filters = Record<string, string>;

/** The Envoy stats the retries SLI reads; Istio keeps them only when proxyStatsMatcher includes them. */
export const RETRY_STATS = '.*upstream_rq_retry.*';
/** Envoy's circuit-breaker counter, kept only when proxyStatsMatcher includes it (as retries). */
export const CIRCUIT_BREAKER_STATS = '.*upstream_rq_pending_overflow.*';
/** Envoy's TLS handshake stats per listener and cluster; Istio keeps listener stats only when proxyStatsMatcher includes them. */
export const SSL_STATS = '.*ssl[.](connection_error|fail_verify_.*|handshake)';
/** Istio's inbound listener, where every sidecar takes its mTLS (and plaintext) connections. */
const INBOUND_LISTENER = '0.0.0.0_15006';

export type SliQuery =
  /**
   * scale × sum(rate(metric{numerator})) / sum(rate(metric{denominator})); samples: the
   * denominator's increase. A numerator with no series counts as zero (the meshes create a
   * series on its first request), unless `absentNumerator` is 'no-data': a metric the proxy may
   * not record at all, where no series means nobody measured. `whenEmpty` says why.
   */
  | { kind: 'ratio'; metric: string; numerator: Filters; denominator: Filters; scale: number; numeratorMetric?: string; absentNumerator?: 'no-data'; whenEmpty?: string }
  /**
   * histogram_quantile(q, …) over the window; samples: the histogram's count increase. `native`:
   * a Prometheus native histogram (one series, no _bucket/le), as k6 remote-writes its trends.
   */
  | { kind: 'quantile'; metric: string; filters: Filters; q: number; scale: number; native?: boolean }
  /**
   * scale × min/max(metric{filters}) at the window's end; samples: the series count.
   * `timestamp`: the metric is a Unix time in seconds and the value is how far ahead of now it is.
   * `ageOfMs`: the metric is a Unix time in milliseconds and the value is how long ago it was, in ms.
   */
  | { kind: 'gauge'; metric: string; filters: Filters; reduce: 'min' | 'max'; scale: number; timestamp?: boolean; ageOfMs?: boolean }
  /**
   * Counters as a rate: scale × the sum over `metrics` of sum(rate(metric{filters})) (reduce
   * 'sum'), or scale × max(rate(metric{filters})) over the series of one metric (reduce 'max': the
   * busiest). Samples: the series count; counters a proxy creates at zero make zero a measurement.
   * `presence`: counters a proxy creates only on their first count (Linkerd's errors): their
   * absence is zero wherever the proxies are scraped, and the samples are the presence metric's.
   */
  | { kind: 'rate'; metrics: string[]; filters: Filters; reduce: 'sum' | 'max'; scale: number; presence?: { metric: string; filters: Filters } }
  /** scale × sum(metric{filters}) / count(metric{filters}) at the window's end (the share of scrape targets up); samples: the count. */
  | { kind: 'share'; metric: string; filters: Filters; scale: number };

const QUANTILES: Partial<Record<SliKey, number>> = { 'latency-p50': 0.5, 'latency-p95': 0.95, 'latency-p99': 0.99 };

function split(ref: string): [string, string] {
  const [ns, name] = ref.split('/');
  return [ns ?? '', name ?? ''];
}

/** Istio filters: server-side truth (reporter=destination), except edges, seen from the client. */
function istioFilters(scope: Scope): Filters {
  if (scope.edge) {
    const [fromNs, from] = split(scope.edge.from);
    const [toNs, to] = split(scope.edge.to);
    return { reporter: 'source', source_workload_namespace: fromNs, source_workload: from, destination_service_namespace: toNs, destination_service_name: to };
  }
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { reporter: 'destination', destination_service_namespace: ns, destination_service_name: name };
  }
  if (scope.namespace) return { reporter: 'destination', destination_workload_namespace: scope.namespace };
  return { reporter: 'destination' };
}

function linkerdFilters(scope: Scope): Filters {
  if (scope.edge) {
    const [fromNs, from] = split(scope.edge.from);
    const [toNs, to] = split(scope.edge.to);
    return { direction: 'outbound', namespace: fromNs, deployment: from, dst_namespace: toNs, dst_deployment: to };
  }
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { direction: 'inbound', namespace: ns, deployment: name };
  }
  return scope.namespace ? { direction: 'inbound', namespace: scope.namespace } : { direction: 'inbound' };
}

/** A workload's pods ("<name>-<hash>-<suffix>" or a StatefulSet's "<name>-<n>"). */
function podsOf(workload: string): string {
  return `~${workload}-.*`;
}

/** Envoy's outbound cluster of a service, "outbound|<port>||<name>.<ns>.svc.cluster.local", as a regex without backslashes. */
function outboundCluster(ref: string): string {
  const [ns, name] = split(ref);
  return `~outbound[|][0-9]+[|][|]${name}[.]${ns}[.]svc[.]cluster[.]local`;
}

function istioRetryFilters(scope: Scope): { retries: Filters; requests: Filters } {
  if (scope.edge) {
    const [fromNs, from] = split(scope.edge.from);
    const [toNs, to] = split(scope.edge.to);
    return {
      retries: { namespace: fromNs, pod: podsOf(from), cluster_name: outboundCluster(scope.edge.to) },
      requests: { source_workload_namespace: fromNs, source_workload: from, destination_service_namespace: toNs, destination_service_name: to },
    };
  }
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { retries: { cluster_name: outboundCluster(scope.service) }, requests: { destination_service_namespace: ns, destination_service_name: name } };
  }
  // A namespace's retries are those its clients make.
  return scope.namespace ? { retries: { namespace: scope.namespace }, requests: { source_workload_namespace: scope.namespace } } : { retries: {}, requests: {} };
}

/**
 * An Envoy cluster counter (kept only when proxyStatsMatcher includes `stats`) per client pod and
 * upstream cluster, over the requests those clients' proxies report: no counter is no data.
 */
function envoyClusterRatio(counter: string, stats: string, scope: Scope, scale: number): SliQuery {
  const { retries: clusters, requests: clients } = istioRetryFilters(scope);
  return {
    kind: 'ratio',
    metric: 'istio_requests_total',
    numeratorMetric: `envoy_cluster_${counter}`,
    numerator: clusters,
    denominator: { reporter: 'source', ...clients },
    scale,
    absentNumerator: 'no-data',
    whenEmpty: `Envoy records ${counter} only when meshConfig.defaultConfig.proxyStatsMatcher includes it; meshdrill's install adds "${stats}" to inclusionRegexps, a mesh installed otherwise needs the same`,
  };
}

function linkerdRouteFilters(scope: Scope): Filters {
  if (scope.edge) {
    const [fromNs, from] = split(scope.edge.from);
    const [toNs, to] = split(scope.edge.to);
    return { namespace: fromNs, deployment: from, parent_namespace: toNs, parent_name: to };
  }
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { parent_namespace: ns, parent_name: name };
  }
  return scope.namespace ? { namespace: scope.namespace } : {};
}

/** ztunnel, the one proxy per node on ambient: istio-system's ztunnel containers, whatever the scope. */
const ZTUNNEL: Filters = { namespace: 'istio-system', container: 'ztunnel' };

function podFilters(scope: Scope): Filters {
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { namespace: ns, pod: podsOf(name) };
  }
  if (scope.edge) return { namespace: split(scope.edge.to)[0] };
  return scope.namespace ? { namespace: scope.namespace } : {};
}

const L7 = new Set<SliKey>(['success-rate', 'error-rate-4xx', 'error-rate-5xx', 'latency-p50', 'latency-p95', 'latency-p99', 'retries-per-request']);

export function sliQuery(mesh: MeshName, mode: DataPlaneMode, sli: SliKey, scope: Scope): SliQuery {
  if (sli === 'promql') throw new ConfigError('sli "promql" carries its own query');
  if (mesh === 'istio' && mode === 'ambient' && L7.has(sli)) {
    // Ambient without a waypoint has only ztunnel's istio_tcp_* metrics: no response codes, no latency.
    throw new ConfigError(`${sli} needs L7 metrics, which Istio ambient mode has only behind a waypoint; measure it from the load generator instead`);
  }
  return mesh === 'istio' ? istioQuery(mode, sli, scope) : linkerdQuery(sli, scope);
}

function istioQuery(mode: DataPlaneMode, sli: SliKey, scope: Scope): SliQuery {
  const f = istioFilters(scope);
  const requests = 'istio_requests_total';
  switch (sli) {
    case 'success-rate':
      return { kind: 'ratio', metric: requests, numerator: { ...f, response_code: '!~5..' }, denominator: f, scale: 100 };
    case 'error-rate-5xx':
      return { kind: 'ratio', metric: requests, numerator: { ...f, response_code: '~5..' }, denominator: f, scale: 100 };
    case 'error-rate-4xx':
      return { kind: 'ratio', metric: requests, numerator: { ...f, response_code: '~4..' }, denominator: f, scale: 100 };
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return { kind: 'quantile', metric: 'istio_request_duration_milliseconds', filters: f, q: QUANTILES[sli]!, scale: 1 };
    case 'plaintext-share': {
      // connection_security_policy is meaningful only as reported by the destination (§1.8).
      const dest = { ...f, reporter: 'destination' };
      if (mode === 'ambient') return { kind: 'ratio', metric: 'istio_tcp_connections_opened_total', numerator: { ...dest, connection_security_policy: 'unknown' }, denominator: dest, scale: 100 };
      return { kind: 'ratio', metric: requests, numerator: { ...dest, connection_security_policy: 'none' }, denominator: dest, scale: 100 };
    }
    case 'retries-per-request':
      // Retries are Envoy's, per client pod and upstream cluster; requests as the clients' proxies
      // report them. Envoy keeps upstream_rq_retry only when proxyStatsMatcher includes it
      // (istio.io/docs/ops/configuration/telemetry/envoy-stats); meshdrill's install does.
      return envoyClusterRatio('upstream_rq_retry', RETRY_STATS, scope, 1);
    case 'circuit-breaker-trips':
      // Envoy counts the requests its connection pool refused per client pod and upstream cluster
      // (upstream_rq_pending_overflow; Istio's circuit-breaking task reads the same counter).
      return envoyClusterRatio('upstream_rq_pending_overflow', CIRCUIT_BREAKER_STATS, scope, 100);
    case 'cert-min-remaining':
      return { kind: 'gauge', metric: 'istio_agent_cert_expiry_seconds', filters: podFilters(scope), reduce: 'min', scale: 1000 };
    case 'proxy-config-age':
      // The oldest last CDS fetch among the scope's sidecars (Envoy's cluster_manager.cds.update_time,
      // envoyproxy.io cluster_manager stats; kept by Istio's default stats inclusion). istiod
      // re-pushes at least every keepaliveMaxServerConnectionAge (30m), so a healthy mesh stays under it.
      if (mode === 'ambient') throw new ConfigError(SLI_UNAVAILABLE[sli]!.ambient!);
      return { kind: 'gauge', metric: 'envoy_cluster_manager_cds_update_time', filters: podFilters(scope), reduce: 'min', scale: 1, ageOfMs: true };
    case 'proxy-memory':
      return { kind: 'gauge', metric: 'container_memory_working_set_bytes', filters: { ...podFilters(scope), container: 'istio-proxy' }, reduce: 'max', scale: 1 };
    case 'proxy-cpu':
      // cAdvisor's CPU counter per container (the kubelet's /metrics/cadvisor). Ambient has no
      // sidecars: the ztunnel on each node carries every workload's traffic.
      return { kind: 'rate', metrics: ['container_cpu_usage_seconds_total'], filters: mode === 'ambient' ? ZTUNNEL : { ...podFilters(scope), container: 'istio-proxy' }, reduce: 'max', scale: 1 };
    case 'proxy-restarts':
      return { kind: 'rate', metrics: ['kube_pod_container_status_restarts_total'], filters: mode === 'ambient' ? ZTUNNEL : { ...podFilters(scope), container: 'istio-proxy' }, reduce: 'sum', scale: 3_600 };
    case 'tls-handshake-failures':
      // A failed handshake is counted once at the inbound listener: connection_error when the
      // client gave up on the server's certificate, fail_verify_error when the server refused the
      // client's (envoyproxy.io listener SSL statistics).
      if (mode === 'ambient') throw new ConfigError(SLI_UNAVAILABLE[sli]!.ambient!);
      return { kind: 'rate', metrics: ['envoy_listener_ssl_connection_error', 'envoy_listener_ssl_fail_verify_error'], filters: { ...podFilters(scope), listener_address: INBOUND_LISTENER }, reduce: 'sum', scale: 60 };
    case 'telemetry-ingestion':
      return { kind: 'share', metric: 'up', filters: podFilters(scope), scale: 100 };
    case 'push-latency':
      return { kind: 'quantile', metric: 'pilot_proxy_convergence_time', filters: {}, q: 0.99, scale: 1000 };
    default:
      throw new ConfigError(`no query for ${sli}`);
  }
}

function linkerdQuery(sli: SliKey, scope: Scope): SliQuery {
  const f = linkerdFilters(scope);
  switch (sli) {
    case 'success-rate':
      return { kind: 'ratio', metric: 'response_total', numerator: { ...f, classification: 'success' }, denominator: f, scale: 100 };
    case 'error-rate-5xx':
      return { kind: 'ratio', metric: 'response_total', numerator: { ...f, status_code: '~5..' }, denominator: f, scale: 100 };
    case 'error-rate-4xx':
      return { kind: 'ratio', metric: 'response_total', numerator: { ...f, status_code: '~4..' }, denominator: f, scale: 100 };
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return { kind: 'quantile', metric: 'response_latency_ms', filters: f, q: QUANTILES[sli]!, scale: 1 };
    case 'plaintext-share':
      return { kind: 'ratio', metric: 'request_total', numerator: { ...f, direction: 'inbound', tls: '!true' }, denominator: { ...f, direction: 'inbound' }, scale: 100 };
    case 'retries-per-request': {
      // Linkerd ≥ 2.16 counts retries and requests at the route level of the client's proxy
      // (linkerd.io/2/reference/retries; `linkerd viz` reads the same two counters).
      const routes = linkerdRouteFilters(scope);
      return {
        kind: 'ratio',
        metric: 'outbound_http_route_request_statuses_total',
        numeratorMetric: 'outbound_http_route_retry_requests_total',
        numerator: routes,
        denominator: routes,
        scale: 1,
        absentNumerator: 'no-data',
        whenEmpty: 'Linkerd counts retries in outbound_http_route_* metrics from 2.16 on, and only for Services or routes with retry.linkerd.io annotations',
      };
    }
    case 'cert-min-remaining':
      return { kind: 'gauge', metric: 'identity_cert_expiration_timestamp_seconds', filters: podFilters(scope), reduce: 'min', scale: 1000, timestamp: true };
    case 'proxy-memory':
      return { kind: 'gauge', metric: 'container_memory_working_set_bytes', filters: { ...podFilters(scope), container: 'linkerd-proxy' }, reduce: 'max', scale: 1 };
    case 'proxy-cpu':
      return { kind: 'rate', metrics: ['container_cpu_usage_seconds_total'], filters: { ...podFilters(scope), container: 'linkerd-proxy' }, reduce: 'max', scale: 1 };
    case 'proxy-restarts':
      return { kind: 'rate', metrics: ['kube_pod_container_status_restarts_total'], filters: { ...podFilters(scope), container: 'linkerd-proxy' }, reduce: 'sum', scale: 3_600 };
    case 'tls-handshake-failures':
      // linkerd2-proxy counts connections its inbound side could not process by error kind; a
      // failed TLS handshake is an I/O error there (inbound metrics, error="i/o"), as are other
      // transport failures on accepted connections, so this is an upper bound. The counter appears
      // with its first error: a scraped proxy (its identity gauge is there) without it has had none.
      return { kind: 'rate', metrics: ['inbound_tcp_errors_total'], filters: { ...podFilters(scope), error: 'i/o' }, reduce: 'sum', scale: 60, presence: { metric: 'identity_cert_expiration_timestamp_seconds', filters: podFilters(scope) } };
    case 'telemetry-ingestion':
      return { kind: 'share', metric: 'up', filters: podFilters(scope), scale: 100 };
    case 'proxy-config-age':
    case 'push-latency':
    case 'circuit-breaker-trips':
      throw new ConfigError(SLI_UNAVAILABLE[sli]!.linkerd!);
    default:
      throw new ConfigError(`no query for ${sli}`);
  }
}

const CALLER_VIEW = new Set<SliKey>(['success-rate', 'error-rate-4xx', 'error-rate-5xx', 'latency-p50', 'latency-p95', 'latency-p99']);

/**
 * A scope's request SLIs as the meshed callers' proxies report them: before a namespace is meshed
 * its own telemetry is silent, but a meshed caller's proxy reports every request it sends there
 * (Istio reporter="source", labelled with the destination Service from the registry; Linkerd's
 * outbound response_total with dst_* labels from its destination service). On a live cluster this
 * is the baseline of a namespace the stage is about to mesh. Requests from unmeshed callers are in
 * no one's telemetry: with none meshed, this is no data, never zero.
 */
export function callersSliQuery(mesh: MeshName, mode: DataPlaneMode, sli: SliKey, scope: Scope, callers?: string[]): SliQuery {
  if (!CALLER_VIEW.has(sli) || scope.edge) return sliQuery(mesh, mode, sli, scope);
  if (mesh === 'istio' && mode === 'ambient') return sliQuery(mesh, mode, sli, scope);
  // Only these callers' namespaces: the same requests before and after a stage meshes the scope.
  const from = callers ? `~${callers.map((c) => c.replace(/[.]/g, '[.]')).join('|')}` : undefined;
  const filters: Filters =
    mesh === 'istio'
      ? { reporter: 'source', ...(from ? { source_workload_namespace: from } : {}), ...(scope.service ? { destination_service_namespace: split(scope.service)[0], destination_service_name: split(scope.service)[1] } : scope.namespace ? { destination_service_namespace: scope.namespace } : {}) }
      : { direction: 'outbound', ...(from ? { namespace: from } : {}), ...(scope.service ? { dst_namespace: split(scope.service)[0], dst_deployment: split(scope.service)[1] } : scope.namespace ? { dst_namespace: scope.namespace } : {}) };
  const own = sliQuery(mesh, mode, sli, scope);
  if (own.kind === 'quantile') return { ...own, filters };
  if (own.kind !== 'ratio') return own;
  // What picks the numerator out of the denominator (a response code, a classification) stays.
  const condition = Object.fromEntries(Object.entries(own.numerator).filter(([key, value]) => own.denominator[key] !== value));
  return { ...own, numerator: { ...filters, ...condition }, denominator: filters };
}

/** A PromQL selector; filter values starting with "!" are !=, "~" =~, "!~" !~. */
export function selector(filters: Filters): string {
  const parts = Object.entries(filters).map(([k, v]) => {
    if (v.startsWith('!~')) return `${k}!~"${v.slice(2)}"`;
    if (v.startsWith('~')) return `${k}=~"${v.slice(1)}"`;
    if (v.startsWith('!')) return `${k}!="${v.slice(1)}"`;
    return `${k}="${v}"`;
  });
  return `{${parts.join(',')}}`;
}

/** The PromQL of a query over a window ("5m"). */
export function renderPromql(query: SliQuery, window: string): string {
  const rate = (metric: string, filters: Filters) => `sum(rate(${metric}${selector(filters)}[${window}]))`;
  const scaled = (scale: number, expr: string) => (scale === 1 ? expr : `${scale} * ${expr}`);
  switch (query.kind) {
    case 'ratio': {
      // PromQL drops a sum over no series; `or vector(0)` makes it zero where absence means none.
      const top = rate(query.numeratorMetric ?? query.metric, query.numerator);
      const numerator = query.absentNumerator === 'no-data' ? top : `(${top} or vector(0))`;
      return scaled(query.scale, `${numerator} / ${rate(query.metric, query.denominator)}`);
    }
    case 'quantile':
      if (query.native) return scaled(query.scale, `histogram_quantile(${query.q}, sum(rate(${query.metric}${selector(query.filters)}[${window}])))`);
      return scaled(query.scale, `histogram_quantile(${query.q}, sum by (le) (rate(${query.metric}_bucket${selector(query.filters)}[${window}])))`);
    case 'gauge':
      if (query.ageOfMs) return scaled(query.scale, `(time() * 1000 - ${query.reduce}(${query.metric}${selector(query.filters)}))`);
      return scaled(query.scale, `${query.reduce}(${query.metric}${selector(query.filters)}${query.timestamp ? ' - time()' : ''})`);
    case 'rate':
      if (query.reduce === 'max') return scaled(query.scale, `max(rate(${query.metrics[0]}${selector(query.filters)}[${window}]))`);
      if (query.presence) return scaled(query.scale, `(${rate(query.metrics[0]!, query.filters)} or vector(0))`);
      return scaled(query.scale, query.metrics.length === 1 ? rate(query.metrics[0]!, query.filters) : `(${query.metrics.map((m) => rate(m, query.filters)).join(' + ')})`);
    case 'share':
      return scaled(query.scale, `sum(${query.metric}${selector(query.filters)}) / count(${query.metric}${selector(query.filters)})`);
  }
}

/** PromQL counting the samples behind a query over a window. */
export function renderSamplesPromql(query: SliQuery, window: string): string {
  switch (query.kind) {
    case 'ratio':
      return `sum(increase(${query.metric}${selector(query.denominator)}[${window}]))`;
    case 'quantile':
      if (query.native) return `sum(histogram_count(increase(${query.metric}${selector(query.filters)}[${window}])))`;
      return `sum(increase(${query.metric}_count${selector(query.filters)}[${window}]))`;
    case 'gauge':
    case 'share':
      return `count(${query.metric}${selector(query.filters)})`;
    case 'rate':
      if (query.presence) return `count(${query.presence.metric}${selector(query.presence.filters)})`;
      return `count(${query.metrics[0]}${selector(query.filters)})`;
  }
}

const rendered = new Map<string, string>();

/** PromQL for an SLI; rendering is pure, so results are cached by their inputs. */
export function promqlFor(mesh: MeshName, mode: DataPlaneMode, sli: SliKey, scope: Scope, window: string): string {
  const key = JSON.stringify([mesh, mode, sli, scope, window]);
  let text = rendered.get(key);
  if (text === undefined) {
    text = renderPromql(sliQuery(mesh, mode, sli, scope), window);
    if (rendered.size > 10_000) rendered.clear();
    rendered.set(key, text);
  }
  return text;
}

export function istioPromql(sli: SliKey, scope: Scope, window: string, mode: DataPlaneMode): string {
  return promqlFor('istio', mode, sli, scope, window);
}

export function linkerdPromql(sli: SliKey, scope: Scope, window: string): string {
  return promqlFor('linkerd', 'sidecar', sli, scope, window);
}

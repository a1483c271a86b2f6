import { ConfigError } from '../harness/errors.js';
import type { SliKey } from '../slo/sli.js';
import type { Scope } from '../slo/schema.js';
import type { DataPlaneMode, MeshName } from './types.js';

// Each SLI on each mesh's own metric names (../shared/reference/mesh-facts.md §1.8, §2.4), as a
// description that both renders PromQL and drives the embedded cluster's metric store, so the
// two sources compute the same thing. Percent SLIs come out in percent, durations in ms.

export type Filters = Record<string, string>;

export type SliQuery =
  /** scale × sum(rate(metric{numerator})) / sum(rate(metric{denominator})); samples: the denominator's increase. */
  | { kind: 'ratio'; metric: string; numerator: Filters; denominator: Filters; scale: number; numeratorMetric?: string; minus?: { metric: string; filters: Filters } }
  /** histogram_quantile(q, …) over the window; samples: the histogram's count increase. */
  | { kind: 'quantile'; metric: string; filters: Filters; q: number; scale: number }
  /** scale × min/max(metric{filters}) at the window's end (minus the time for timestamps); samples: the series count. */
  | { kind: 'gauge'; metric: string; filters: Filters; reduce: 'min' | 'max'; scale: number; timestamp?: boolean };

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

function podFilters(scope: Scope): Filters {
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { namespace: ns, pod: `~${name}-.*` };
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
    case 'retries-per-request': {
      // Retries are Envoy's, per client pod; requests as the clients' proxies report them.
      const clients: Filters = scope.edge ? { source_workload_namespace: split(scope.edge.from)[0] } : scope.namespace ? { source_workload_namespace: scope.namespace } : {};
      return { kind: 'ratio', metric: requests, numeratorMetric: 'envoy_cluster_upstream_rq_retry', numerator: scope.edge ? { namespace: split(scope.edge.from)[0] } : scope.namespace ? { namespace: scope.namespace } : {}, denominator: { reporter: 'source', ...clients }, scale: 1 };
    }
    case 'cert-min-remaining':
      return { kind: 'gauge', metric: 'istio_agent_cert_expiry_seconds', filters: podFilters(scope), reduce: 'min', scale: 1000 };
    case 'proxy-config-age':
      return { kind: 'gauge', metric: 'meshdrill_proxy_config_age_seconds', filters: podFilters(scope), reduce: 'max', scale: 1000 };
    case 'proxy-memory':
      return { kind: 'gauge', metric: 'container_memory_working_set_bytes', filters: { ...podFilters(scope), container: 'istio-proxy' }, reduce: 'max', scale: 1 };
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
    case 'retries-per-request':
      return { kind: 'ratio', metric: 'route_actual_response_total', numerator: f, denominator: f, scale: 1, minus: { metric: 'route_response_total', filters: f } };
    case 'cert-min-remaining':
      return { kind: 'gauge', metric: 'identity_cert_expiration_timestamp_seconds', filters: podFilters(scope), reduce: 'min', scale: 1000, timestamp: true };
    case 'proxy-config-age':
      return { kind: 'gauge', metric: 'meshdrill_proxy_config_age_seconds', filters: podFilters(scope), reduce: 'max', scale: 1000 };
    case 'proxy-memory':
      return { kind: 'gauge', metric: 'container_memory_working_set_bytes', filters: { ...podFilters(scope), container: 'linkerd-proxy' }, reduce: 'max', scale: 1 };
    case 'push-latency':
      throw new ConfigError('push-latency is an Istio control-plane metric (pilot_proxy_convergence_time); Linkerd has no equivalent');
    default:
      throw new ConfigError(`no query for ${sli}`);
  }
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
      const top = rate(query.numeratorMetric ?? query.metric, query.numerator);
      const numerator = query.minus ? `(${top} - ${rate(query.minus.metric, query.minus.filters)})` : top;
      const denominator = query.minus ? rate(query.minus.metric, query.minus.filters) : rate(query.metric, query.denominator);
      return scaled(query.scale, `${numerator} / ${denominator}`);
    }
    case 'quantile':
      return scaled(query.scale, `histogram_quantile(${query.q}, sum by (le) (rate(${query.metric}_bucket${selector(query.filters)}[${window}])))`);
    case 'gauge':
      return scaled(query.scale, `${query.reduce}(${query.metric}${selector(query.filters)}${query.timestamp ? ' - time()' : ''})`);
  }
}

/** PromQL counting the samples behind a query over a window. */
export function renderSamplesPromql(query: SliQuery, window: string): string {
  switch (query.kind) {
    case 'ratio':
      return `sum(increase(${query.minus ? query.minus.metric : query.metric}${selector(query.minus ? query.minus.filters : query.denominator)}[${window}]))`;
    case 'quantile':
      return `sum(increase(${query.metric}_count${selector(query.filters)}[${window}]))`;
    case 'gauge':
      return `count(${query.metric}${selector(query.filters)})`;
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

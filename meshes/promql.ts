import { ConfigError } from '../harness/errors.js';
import type { SliKey } from '../slo/sli.js';
import type { Scope } from '../slo/schema.js';
import type { DataPlaneMode, MeshName } from './types.js';

// PromQL for each SLI on each mesh's own metric names (../shared/reference/mesh-facts.md §1.8, §2.4).
// Percent SLIs come out in percent, durations in milliseconds, sizes in bytes.

function selector(filters: Record<string, string>): string {
  return `{${Object.entries(filters).map(([k, v]) => (v.startsWith('=~') || v.startsWith('!~') || v.startsWith('!=') ? `${k}${v.slice(0, 2)}"${v.slice(2)}"` : `${k}="${v}"`)).join(',')}}`;
}

function split(ref: string): [string, string] {
  const [ns, name] = ref.split('/');
  return [ns ?? '', name ?? ''];
}

/** Server-side label filters of a scope; an edge is observed from the client's side. */
function istioFilters(scope: Scope): { reporter: 'source' | 'destination'; filters: Record<string, string> } {
  if (scope.edge) {
    const [fromNs, from] = split(scope.edge.from);
    const [toNs, to] = split(scope.edge.to);
    return { reporter: 'source', filters: { source_workload_namespace: fromNs, source_workload: from, destination_service_namespace: toNs, destination_service_name: to } };
  }
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { reporter: 'destination', filters: { destination_service_namespace: ns, destination_service_name: name } };
  }
  if (scope.namespace) return { reporter: 'destination', filters: { destination_workload_namespace: scope.namespace } };
  return { reporter: 'destination', filters: {} };
}

function linkerdFilters(scope: Scope): Record<string, string> {
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

function podFilters(scope: Scope): Record<string, string> {
  if (scope.service) {
    const [ns, name] = split(scope.service);
    return { namespace: ns, pod: `=~${name}-.*` };
  }
  if (scope.edge) return { namespace: split(scope.edge.to)[0] };
  return scope.namespace ? { namespace: scope.namespace } : {};
}

const QUANTILES: Partial<Record<SliKey, string>> = { 'latency-p50': '0.5', 'latency-p95': '0.95', 'latency-p99': '0.99' };

export function istioPromql(sli: SliKey, scope: Scope, window: string, mode: DataPlaneMode): string {
  const { reporter, filters } = istioFilters(scope);
  const base = { reporter, ...filters };
  const rate = (metric: string, extra: Record<string, string> = {}) => `sum(rate(${metric}${selector({ ...base, ...extra })}[${window}]))`;
  if (mode === 'ambient' && ['success-rate', 'error-rate-4xx', 'error-rate-5xx', 'latency-p50', 'latency-p95', 'latency-p99', 'retries-per-request'].includes(sli)) {
    // Ambient without a waypoint has only ztunnel's istio_tcp_* metrics: no response codes, no latency.
    throw new ConfigError(`${sli} needs L7 metrics, which Istio ambient mode has only behind a waypoint; measure it from the load generator instead`);
  }
  switch (sli) {
    case 'success-rate':
      return `100 * ${rate('istio_requests_total', { response_code: '!~5..' })} / ${rate('istio_requests_total')}`;
    case 'error-rate-5xx':
      return `100 * ${rate('istio_requests_total', { response_code: '=~5..' })} / ${rate('istio_requests_total')}`;
    case 'error-rate-4xx':
      return `100 * ${rate('istio_requests_total', { response_code: '=~4..' })} / ${rate('istio_requests_total')}`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return `histogram_quantile(${QUANTILES[sli]}, sum by (le) (rate(istio_request_duration_milliseconds_bucket${selector(base)}[${window}])))`;
    case 'plaintext-share': {
      // connection_security_policy is meaningful only as reported by the destination (mesh-facts §1.8).
      const dest = { ...filters, reporter: 'destination' };
      if (mode === 'ambient') return `100 * sum(rate(istio_tcp_connections_opened_total${selector({ ...dest, connection_security_policy: 'unknown' })}[${window}])) / sum(rate(istio_tcp_connections_opened_total${selector(dest)}[${window}]))`;
      return `100 * sum(rate(istio_requests_total${selector({ ...dest, connection_security_policy: 'none' })}[${window}])) / sum(rate(istio_requests_total${selector(dest)}[${window}]))`;
    }
    case 'retries-per-request':
      return `sum(rate(envoy_cluster_upstream_rq_retry${selector(podFilters(scope))}[${window}])) / ${rate('istio_requests_total', { reporter: 'source' })}`;
    case 'cert-min-remaining':
      return `1000 * min(istio_agent_cert_expiry_seconds${selector(podFilters(scope))})`;
    case 'proxy-config-age':
      return `1000 * max(meshdrill_proxy_config_age_seconds${selector(podFilters(scope))})`;
    case 'proxy-memory':
      return `max(container_memory_working_set_bytes${selector({ ...podFilters(scope), container: 'istio-proxy' })})`;
    case 'push-latency':
      return `1000 * histogram_quantile(0.99, sum by (le) (rate(pilot_proxy_convergence_time_bucket[${window}])))`;
    case 'promql':
      throw new ConfigError('sli "promql" carries its own query');
  }
}

export function linkerdPromql(sli: SliKey, scope: Scope, window: string): string {
  const filters = linkerdFilters(scope);
  const rate = (metric: string, extra: Record<string, string> = {}) => `sum(rate(${metric}${selector({ ...filters, ...extra })}[${window}]))`;
  switch (sli) {
    case 'success-rate':
      return `100 * ${rate('response_total', { classification: 'success' })} / ${rate('response_total')}`;
    case 'error-rate-5xx':
      return `100 * ${rate('response_total', { status_code: '=~5..' })} / ${rate('response_total')}`;
    case 'error-rate-4xx':
      return `100 * ${rate('response_total', { status_code: '=~4..' })} / ${rate('response_total')}`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return `histogram_quantile(${QUANTILES[sli]}, sum by (le) (rate(response_latency_ms_bucket${selector(filters)}[${window}])))`;
    case 'plaintext-share':
      return `100 * ${rate('request_total', { direction: 'inbound', tls: '!=true' })} / ${rate('request_total', { direction: 'inbound' })}`;
    case 'retries-per-request':
      return `(${rate('route_actual_response_total')} - ${rate('route_response_total')}) / ${rate('route_response_total')}`;
    case 'cert-min-remaining':
      return `1000 * min(identity_cert_expiration_timestamp_seconds${selector(podFilters(scope))} - time())`;
    case 'proxy-config-age':
      return `1000 * max(meshdrill_proxy_config_age_seconds${selector(podFilters(scope))})`;
    case 'proxy-memory':
      return `max(container_memory_working_set_bytes${selector({ ...podFilters(scope), container: 'linkerd-proxy' })})`;
    case 'push-latency':
      throw new ConfigError('push-latency is an Istio control-plane metric (pilot_proxy_convergence_time); Linkerd has no equivalent');
    case 'promql':
      throw new ConfigError('sli "promql" carries its own query');
  }
}

export function promqlFor(mesh: MeshName, mode: DataPlaneMode, sli: SliKey, scope: Scope, window: string): string {
  return mesh === 'istio' ? istioPromql(sli, scope, window, mode) : linkerdPromql(sli, scope, window);
}

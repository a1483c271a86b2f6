// The twin's metric store: counters, gauges and histograms with the meshes' own names and
// labels, kept as a time series per tick so SLIs can be computed over virtual-time windows, and
// exposed in the Prometheus text format at /metrics.

export type Labels = Record<string, string>;

interface Series {
  name: string;
  labels: Labels;
  type: 'counter' | 'gauge';
  value: number;
  /** (time, value) samples at each tick boundary. */
  history: Array<[number, number]>;
}

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const ISTIO_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Linkerd's buckets for response_latency_ms. */
export const LINKERD_BUCKETS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];

const HELP: Record<string, string> = {
  istio_requests_total: 'Total requests, as reported by a proxy (reporter=source|destination).',
  istio_request_duration_milliseconds: 'Request duration in milliseconds.',
  istio_tcp_connections_opened_total: 'TCP connections opened (ztunnel in ambient mode).',
  istio_agent_cert_expiry_seconds: 'Seconds until the workload certificate expires; negative when expired.',
  request_total: 'Linkerd proxy requests.',
  response_total: 'Linkerd proxy responses, with classification.',
  response_latency_ms: 'Linkerd proxy response latency in milliseconds.',
  identity_cert_expiration_timestamp_seconds: 'Linkerd proxy certificate expiry as a Unix timestamp.',
  inbound_http_authz_deny_total: 'Linkerd inbound requests denied by policy.',
  envoy_cluster_upstream_rq_retry: 'Envoy upstream request retries.',
  meshdrill_client_requests_total: 'Every request as the client saw it, including connections reset before any proxy could report them.',
  meshdrill_proxy_config_age_seconds: 'Seconds since the proxy last received configuration from its control plane.',
  container_memory_working_set_bytes: 'Proxy container memory.',
  pilot_proxy_convergence_time: 'Delay between a config change and all proxies receiving it, in seconds.',
};

function key(name: string, labels: Labels): string {
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

export class MetricStore {
  private readonly series = new Map<string, Series>();
  private lastSample = Number.NEGATIVE_INFINITY;

  inc(name: string, labels: Labels, by = 1): void {
    if (by === 0) return;
    this.get(name, labels, 'counter').value += by;
  }

  set(name: string, labels: Labels, value: number): void {
    this.get(name, labels, 'gauge').value = value;
  }

  /** Adds `count` observations spread over buckets: counts[i] observations fall at or below bounds[i] (and the rest above). */
  observe(name: string, labels: Labels, bounds: number[], perBucket: number[], sum: number, count: number): void {
    if (count === 0) return;
    // Prometheus buckets are cumulative: le="x" counts every observation at or below x.
    let cumulative = 0;
    for (const [i, bound] of bounds.entries()) {
      cumulative += perBucket[i] ?? 0;
      const series = this.get(`${name}_bucket`, { ...labels, le: String(bound) }, 'counter');
      series.value += cumulative;
    }
    this.inc(`${name}_bucket`, { ...labels, le: '+Inf' }, count);
    this.inc(`${name}_sum`, labels, sum);
    this.inc(`${name}_count`, labels, count);
  }

  /** Records every series' value at `time` (a tick boundary). */
  sample(time: number): void {
    if (time <= this.lastSample) return;
    this.lastSample = time;
    for (const s of this.series.values()) {
      const last = s.history.at(-1);
      if (!last || last[1] !== s.value || s.type === 'gauge') s.history.push([time, s.value]);
    }
  }

  /** Series of a metric whose labels include `match` (a value starting with "!" excludes it; "~" is a regular expression). */
  find(name: string, match: Labels = {}): Series[] {
    const out: Series[] = [];
    for (const s of this.series.values()) if (s.name === name && labelsMatch(s.labels, match)) out.push(s);
    return out;
  }

  /** Increase of the summed counters over (from, to]. */
  increase(name: string, match: Labels, from: number, to: number): number {
    let total = 0;
    for (const s of this.find(name, match)) total += valueAt(s, to) - valueAt(s, from);
    return total;
  }

  /** A quantile of a histogram over (from, to], interpolated within buckets as PromQL's histogram_quantile does. */
  quantile(name: string, match: Labels, q: number, from: number, to: number): number {
    const byBound = new Map<number, number>();
    for (const s of this.find(`${name}_bucket`, match)) {
      const bound = s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']);
      byBound.set(bound, (byBound.get(bound) ?? 0) + valueAt(s, to) - valueAt(s, from));
    }
    const bounds = [...byBound.keys()].sort((a, b) => a - b);
    const total = byBound.get(Number.POSITIVE_INFINITY) ?? 0;
    if (total === 0) return Number.NaN;
    const rank = q * total;
    let previousBound = 0;
    let previousCount = 0;
    for (const bound of bounds) {
      const count = byBound.get(bound) ?? 0;
      if (count >= rank) {
        if (bound === Number.POSITIVE_INFINITY) return previousBound;
        return previousBound + ((bound - previousBound) * (rank - previousCount)) / Math.max(count - previousCount, 1e-9);
      }
      previousBound = bound;
      previousCount = count;
    }
    return previousBound;
  }

  gauge(name: string, match: Labels, at: number, reduce: 'min' | 'max'): number {
    const values = this.find(name, match).map((s) => valueAt(s, at));
    if (values.length === 0) return Number.NaN;
    return reduce === 'min' ? Math.min(...values) : Math.max(...values);
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  exposition(): string {
    const byName = new Map<string, Series[]>();
    for (const s of this.series.values()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    const lines: string[] = [];
    for (const [name, list] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      const histogram = family !== name && byName.has(`${family}_bucket`);
      if (!histogram || name.endsWith('_bucket')) {
        lines.push(`# HELP ${family} ${HELP[family] ?? family}`);
        lines.push(`# TYPE ${family} ${histogram ? 'histogram' : list[0]!.type}`);
      }
      for (const s of list) lines.push(`${name}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private get(name: string, labels: Labels, type: Series['type']): Series {
    const k = key(name, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { name, labels, type, value: 0, history: [] };
      this.series.set(k, s);
    }
    return s;
  }
}

function labelsMatch(labels: Labels, match: Labels): boolean {
  for (const [k, v] of Object.entries(match)) {
    const actual = labels[k];
    if (v.startsWith('!')) {
      if (actual === v.slice(1)) return false;
    } else if (v.startsWith('~')) {
      if (actual === undefined || !new RegExp(`^(?:${v.slice(1)})$`).test(actual)) return false;
    } else if (actual !== v) return false;
  }
  return true;
}

function valueAt(s: Series, time: number): number {
  let value = 0;
  for (const [t, v] of s.history) {
    if (t > time) break;
    value = v;
  }
  return value;
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

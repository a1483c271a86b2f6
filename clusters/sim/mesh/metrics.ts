// The twin's metric store: counters, gauges and histograms with the meshes' own names and
// labels, kept as a time series per tick so SLIs can be computed over virtual-time windows, and
// exposed in the Prometheus text format at /metrics.

export type Labels = Record<string, string>;

/** A typed array of twice the length holding the same values. */
function grow<T extends Float64Array | Float32Array>(old: T): T {
  const next = new (old.constructor as new (length: number) => T)(old.length * 2);
  next.set(old);
  return next;
}

/** Index of the last of `length` ascending times at or before `time`, or -1 (binary search). */
function indexAtOrBefore(times: Float64Array, length: number, time: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Samples as two growing typed arrays: a sample costs 16 bytes, not a tuple object. */
class History {
  times = new Float64Array(8);
  values = new Float64Array(8);
  length = 0;

  push(time: number, value: number): void {
    if (this.length === this.times.length) {
      this.times = grow(this.times);
      this.values = grow(this.values);
    }
    this.times[this.length] = time;
    this.values[this.length] = value;
    this.length++;
  }

  last(): number | undefined {
    return this.length === 0 ? undefined : this.values[this.length - 1];
  }

  /** The value at `time`: the last sample at or before it, 0 before the first. */
  at(time: number): number {
    const index = indexAtOrBefore(this.times, this.length, time);
    return index < 0 ? 0 : this.values[index]!;
  }
}

interface Series {
  name: string;
  labels: Labels;
  type: 'counter' | 'gauge';
  value: number;
  history: History;
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
  outbound_http_route_retry_requests_total: 'Linkerd outbound route retries.',
  outbound_http_route_request_statuses_total: 'Linkerd outbound route requests, after retries, by status.',
  meshdrill_client_requests_total: 'Every request as the client saw it, including connections reset before any proxy could report them.',
  meshdrill_client_request_duration_milliseconds: 'Latency as the caller saw it (the load generator is source_namespace="external").',
  envoy_cluster_manager_cds_update_time: 'Envoy: when the proxy last received its clusters from the control plane, in milliseconds since the epoch.',
  container_memory_working_set_bytes: 'Proxy container memory.',
  container_cpu_usage_seconds_total: 'cAdvisor: CPU time the container used, in seconds.',
  kube_pod_container_status_restarts_total: 'kube-state-metrics: restarts of the container.',
  envoy_listener_ssl_connection_error: 'Envoy: TLS connection errors on the listener, other than failed certificate verification.',
  envoy_listener_ssl_fail_verify_error: 'Envoy: TLS connections on the listener that failed certificate verification.',
  inbound_tcp_errors_total: 'Linkerd: inbound connections the proxy could not process, by error.',
  up: 'Whether Prometheus scraped the target (1) or not (0).',
  pilot_proxy_convergence_time: 'Delay between a config change and all proxies receiving it, in seconds.',
};

// Callers build a metric's labels in a fixed order, so the JSON text is a stable key; matching
// never depends on order.
function key(name: string, labels: Labels): string {
  return name + JSON.stringify(labels);
}

interface Histogram {
  name: string;
  labels: Labels;
  bounds: number[];
  /** Cumulative counts per bound, as Prometheus buckets are. */
  buckets: number[];
  sum: number;
  count: number;
  history: HistogramHistory;
}

/**
 * A histogram's samples packed row by row: times, sums and counts in Float64Arrays, bucket counts
 * in one Float32Array (relative precision ~6e-8, ample for quantiles), no object per sample.
 */
class HistogramHistory {
  times = new Float64Array(8);
  sums = new Float64Array(8);
  counts = new Float64Array(8);
  rows: Float32Array;
  length = 0;

  constructor(private readonly width: number) {
    this.rows = new Float32Array(8 * width);
  }

  push(time: number, buckets: number[], sum: number, count: number): void {
    if (this.length === this.times.length) {
      this.times = grow(this.times);
      this.sums = grow(this.sums);
      this.counts = grow(this.counts);
      this.rows = grow(this.rows);
    }
    this.times[this.length] = time;
    this.sums[this.length] = sum;
    this.counts[this.length] = count;
    this.rows.set(buckets, this.length * this.width);
    this.length++;
  }

  lastCount(): number | undefined {
    return this.length === 0 ? undefined : this.counts[this.length - 1];
  }

  /** The sample index at or before `time`, or -1. */
  indexAt(time: number): number {
    return indexAtOrBefore(this.times, this.length, time);
  }

  bucket(index: number, i: number): number {
    return index < 0 ? 0 : this.rows[index * this.width + i]!;
  }
}

/** Where increments go: the store itself, or a recorder that prepares them for replay. */
export interface MetricSink {
  inc(name: string, labels: Labels, by?: number): void;
  observe(name: string, labels: Labels, bounds: number[], perBucket: number[], sum: number, count: number): void;
}

export class MetricStore implements MetricSink {
  private readonly series = new Map<string, Series>();
  private readonly histograms = new Map<string, Histogram>();
  private lastSample = Number.NEGATIVE_INFINITY;

  inc(name: string, labels: Labels, by = 1): void {
    if (by === 0) return;
    this.get(name, labels, 'counter').value += by;
  }

  /** A counter that exists at zero before its first count, as proxies create some of theirs. */
  declare(name: string, labels: Labels): void {
    this.get(name, labels, 'counter');
  }

  set(name: string, labels: Labels, value: number): void {
    this.get(name, labels, 'gauge').value = value;
  }

  /**
   * Records the increments `emit` makes for one unit and returns a function that applies them
   * scaled by n, without looking series up again: outcomes repeat every tick with other counts.
   */
  prepare(emit: (sink: MetricSink) => void): (n: number) => void {
    const counters: Array<[Series, number]> = [];
    const histograms: Array<[Histogram, Float64Array, number, number]> = [];
    emit({
      inc: (name, labels, by = 1) => counters.push([this.get(name, labels, 'counter'), by]),
      observe: (name, labels, bounds, perBucket, sum, count) => {
        const h = this.histogram(name, labels, bounds);
        const cumulative = new Float64Array(bounds.length);
        let running = 0;
        for (let i = 0; i < bounds.length; i++) cumulative[i] = running += perBucket[i] ?? 0;
        histograms.push([h, cumulative, sum, count]);
      },
    });
    return (n) => {
      for (const [series, by] of counters) series.value += by * n;
      for (const [h, cumulative, sum, count] of histograms) {
        for (let i = 0; i < cumulative.length; i++) h.buckets[i]! += cumulative[i]! * n;
        h.sum += sum * n;
        h.count += count * n;
      }
    };
  }

  /** A counter to set repeatedly (a value a proxy or exporter keeps itself: CPU seconds, a restart count). */
  counterHandle(name: string, labels: Labels): { value: number } {
    return this.get(name, labels, 'counter');
  }

  /** A gauge to set repeatedly without looking it up each time (per-proxy gauges on every tick). */
  gaugeHandle(name: string, labels: Labels): { value: number } {
    return this.get(name, labels, 'gauge');
  }

  /** Adds `count` observations: perBucket[i] of them fall in (bounds[i-1], bounds[i]], the rest above the last bound. */
  observe(name: string, labels: Labels, bounds: number[], perBucket: number[], sum: number, count: number): void {
    if (count === 0) return;
    const h = this.histogram(name, labels, bounds);
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += perBucket[i] ?? 0;
      h.buckets[i]! += cumulative;
    }
    h.sum += sum;
    h.count += count;
  }

  /** Records every series' value at `time` (a tick boundary). */
  sample(time: number): void {
    if (time <= this.lastSample) return;
    this.lastSample = time;
    for (const s of this.series.values()) {
      if (s.history.last() !== s.value) s.history.push(time, s.value);
    }
    for (const h of this.histograms.values()) {
      if (h.history.lastCount() !== h.count) h.history.push(time, h.buckets, h.sum, h.count);
    }
  }

  /** Series of a metric whose labels include `match` ("!v" excludes v, "~re" matches a regular expression, "!~re" excludes one). */
  find(name: string, match: Labels = {}): Series[] {
    const out: Series[] = [];
    for (const s of this.series.values()) if (s.name === name && labelsMatch(s.labels, match)) out.push(s);
    return out;
  }

  /** Increase of the summed counters over (from, to]; `<histogram>_sum` and `_count` work too. */
  increase(name: string, match: Labels, from: number, to: number): number {
    const part = /_(sum|count)$/.exec(name)?.[1] as 'sum' | 'count' | undefined;
    if (part) {
      const family = name.slice(0, -part.length - 1);
      let total = 0;
      for (const h of this.histograms.values()) {
        if (h.name !== family || !labelsMatch(h.labels, match)) continue;
        const series = part === 'sum' ? h.history.sums : h.history.counts;
        const end = h.history.indexAt(to);
        const start = h.history.indexAt(from);
        total += (end < 0 ? 0 : series[end]!) - (start < 0 ? 0 : series[start]!);
      }
      if (total !== 0 || [...this.histograms.values()].some((h) => h.name === family)) return total;
    }
    let total = 0;
    for (const s of this.find(name, match)) total += valueAt(s, to) - valueAt(s, from);
    return total;
  }

  /** A quantile of a histogram over (from, to], interpolated within buckets as PromQL's histogram_quantile does. */
  quantile(name: string, match: Labels, q: number, from: number, to: number): number {
    let bounds: number[] | undefined;
    let counts: number[] = [];
    let total = 0;
    for (const h of this.histograms.values()) {
      if (h.name !== name || !labelsMatch(h.labels, match)) continue;
      const end = h.history.indexAt(to);
      if (end < 0) continue;
      const start = h.history.indexAt(from);
      bounds ??= h.bounds;
      if (counts.length === 0) counts = h.bounds.map(() => 0);
      for (let i = 0; i < h.bounds.length; i++) counts[i]! += h.history.bucket(end, i) - h.history.bucket(start, i);
      total += h.history.counts[end]! - (start < 0 ? 0 : h.history.counts[start]!);
    }
    if (!bounds || total <= 0) return Number.NaN;
    const rank = q * total;
    let previousBound = 0;
    let previousCount = 0;
    for (let i = 0; i < bounds.length; i++) {
      const count = counts[i]!;
      if (count >= rank) return previousBound + ((bounds[i]! - previousBound) * (rank - previousCount)) / Math.max(count - previousCount, 1e-9);
      previousBound = bounds[i]!;
      previousCount = count;
    }
    // Above the highest finite bound, PromQL returns that bound.
    return previousBound;
  }

  /** Each matching series' labels and value at `time` (PromQL's instant selector over this store). */
  valuesAt(name: string, match: Labels, time: number): Array<{ labels: Labels; value: number }> {
    // A stale series (NaN: its target could not be scraped) is absent from an instant query, as in Prometheus.
    const out: Array<{ labels: Labels; value: number }> = [];
    for (const s of this.find(name, match)) {
      const value = valueAt(s, time);
      if (!(s.type === 'gauge' && Number.isNaN(value))) out.push({ labels: s.labels, value });
    }
    return out;
  }

  /** Each matching counter's increase over (from, to] (PromQL's increase() per series). */
  increases(name: string, match: Labels, from: number, to: number): Array<{ labels: Labels; value: number }> {
    return this.find(name, match).map((s) => ({ labels: s.labels, value: valueAt(s, to) - valueAt(s, from) }));
  }

  /** How many series of a metric match. */
  count(name: string, match: Labels): number {
    return this.find(name, match).length;
  }

  gauge(name: string, match: Labels, at: number, reduce: 'min' | 'max'): number {
    const values = this.find(name, match).map((s) => valueAt(s, at)).filter((v) => !Number.isNaN(v));
    if (values.length === 0) return Number.NaN;
    return reduce === 'min' ? Math.min(...values) : Math.max(...values);
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  exposition(): string {
    const lines: string[] = [];
    const byName = new Map<string, Series[]>();
    for (const s of this.series.values()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    for (const [name, list] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${HELP[name] ?? name}`, `# TYPE ${name} ${list[0]!.type}`);
      // A stale gauge (its proxy cannot be scraped) is not exposed at all.
      for (const s of list) if (!(s.type === 'gauge' && Number.isNaN(s.value))) lines.push(`${name}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
    }
    const families = new Map<string, Histogram[]>();
    for (const h of this.histograms.values()) families.set(h.name, [...(families.get(h.name) ?? []), h]);
    for (const [name, list] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${HELP[name] ?? name}`, `# TYPE ${name} histogram`);
      for (const h of list) {
        h.bounds.forEach((bound, i) => lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: String(bound) })} ${formatNumber(h.buckets[i]!)}`));
        lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: '+Inf' })} ${formatNumber(h.count)}`);
        lines.push(`${name}_sum${formatLabels(h.labels)} ${formatNumber(h.sum)}`, `${name}_count${formatLabels(h.labels)} ${formatNumber(h.count)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private histogram(name: string, labels: Labels, bounds: number[]): Histogram {
    const k = key(name, labels);
    let h = this.histograms.get(k);
    if (!h) {
      h = { name, labels, bounds, buckets: bounds.map(() => 0), sum: 0, count: 0, history: new HistogramHistory(bounds.length) };
      this.histograms.set(k, h);
    }
    return h;
  }

  private get(name: string, labels: Labels, type: Series['type']): Series {
    const k = key(name, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { name, labels, type, value: 0, history: new History() };
      this.series.set(k, s);
    }
    return s;
  }
}


function labelsMatch(labels: Labels, match: Labels): boolean {
  for (const [k, v] of Object.entries(match)) {
    const actual = labels[k];
    if (v.startsWith('!~')) {
      if (actual !== undefined && new RegExp(`^(?:${v.slice(2)})$`).test(actual)) return false;
    } else if (v.startsWith('!')) {
      if (actual === v.slice(1)) return false;
    } else if (v.startsWith('~')) {
      if (actual === undefined || !new RegExp(`^(?:${v.slice(1)})$`).test(actual)) return false;
    } else if (actual !== v) return false;
  }
  return true;
}

function valueAt(s: Series, time: number): number {
  return s.history.at(time);
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

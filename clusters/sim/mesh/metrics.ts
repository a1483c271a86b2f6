// The twin's metric store: counters, gauges and histograms with the meshes' own names and
// labels, kept as a time series per tick so SLIs can be computed over virtual-time windows, and
// exposed in the Prometheus text format at /metrics.

export type Labels = Record<string, string>;

/**
 * A column of numbers that grows without copying what it holds: chunks of 256, the last one
 * doubling from 8 until it is full. A long run's columns waste at most part of one chunk.
 */
class Column<T extends Float64Array | Uint32Array> {
  private readonly chunks: T[] = [];
  length = 0;

  constructor(private readonly make: (size: number) => T) {}

  push(value: number): void {
    let last = this.chunks[this.chunks.length - 1];
    const at = this.length & 255;
    if (!last || (at === 0 && this.length > 0 && last.length === 256)) {
      last = this.make(8);
      this.chunks.push(last);
    } else if (at >= last.length) {
      const bigger = this.make(last.length * 2);
      bigger.set(last);
      last = bigger;
      this.chunks[this.chunks.length - 1] = last;
    }
    last[at] = value;
    this.length++;
  }

  get(index: number): number {
    return this.chunks[index >> 8]![index & 255]!;
  }

  /** Index of the last value at or before `value` in an ascending column, or -1 (binary search). */
  lastAtOrBefore(value: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.get(mid) <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}

const float64 = (size: number) => new Float64Array(size);
const uint32 = (size: number) => new Uint32Array(size);

/**
 * When the store sampled (tick boundaries). Series keep the index of a sample, 4 bytes, not its
 * time: every series sampled at a tick shares that tick's time.
 */
class SampleTimes {
  readonly times = new Column(float64);

  /** The index of the last sample at or before `time`, or -1. */
  indexAt(time: number): number {
    return this.times.lastAtOrBefore(time);
  }
}

/** A series' values where they changed: sample index and value, 12 bytes each. */
class History {
  private readonly at = new Column(uint32);
  private readonly values = new Column(float64);
  private lastValue: number | undefined;

  constructor(private readonly clock: SampleTimes) {}

  push(sample: number, value: number): void {
    this.at.push(sample);
    this.values.push(value);
    this.lastValue = value;
  }

  last(): number | undefined {
    return this.lastValue;
  }

  /** The value at `time`: the last sample at or before it, 0 before the first. */
  valueAt(time: number): number {
    const sample = this.clock.indexAt(time);
    if (sample < 0) return 0;
    const index = this.at.lastAtOrBefore(sample);
    return index < 0 ? 0 : this.values.get(index);
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

/**
 * A histogram fed by a prepared outcome adds the same shape every tick, scaled by the tick's
 * count: cumulative bucket counts, sum and count per request. It is kept as that shape and the
 * total it was scaled by, so its history is one number per shape and sample instead of a row of
 * buckets. Observations that are not a prepared shape (observe()) keep rows of their own.
 */
interface Shape {
  cumulative: Float64Array;
  sum: number;
  count: number;
  /** Requests of this shape so far. */
  weight: number;
  /** Its weight at each of the histogram's samples from `from` on. */
  weights: Column<Float64Array>;
  from: number;
}

class Histogram {
  readonly shapes: Shape[] = [];
  /** Observations outside any shape: cumulative buckets, sum and count, and their rows per sample. */
  readonly direct: { buckets: Float64Array; sum: number; count: number };
  private directRows?: { buckets: Column<Float64Array>[]; sums: Column<Float64Array>; counts: Column<Float64Array>; from: number };
  /** The store's sample index of each of this histogram's samples. */
  private readonly at = new Column(uint32);
  private lastCount: number | undefined;

  constructor(
    readonly name: string,
    readonly labels: Labels,
    readonly bounds: number[],
    private readonly clock: SampleTimes,
  ) {
    this.direct = { buckets: new Float64Array(bounds.length), sum: 0, count: 0 };
  }

  shape(cumulative: Float64Array, sum: number, count: number): Shape {
    const shape: Shape = { cumulative, sum, count, weight: 0, weights: new Column(float64), from: this.at.length };
    this.shapes.push(shape);
    return shape;
  }

  /** Cumulative count in bucket i now. */
  bucketNow(i: number): number {
    let total = this.direct.buckets[i]!;
    for (const s of this.shapes) total += s.cumulative[i]! * s.weight;
    return total;
  }

  get count(): number {
    let total = this.direct.count;
    for (const s of this.shapes) total += s.count * s.weight;
    return total;
  }

  get sum(): number {
    let total = this.direct.sum;
    for (const s of this.shapes) total += s.sum * s.weight;
    return total;
  }

  sample(sample: number): void {
    const count = this.count;
    if (count === this.lastCount) return;
    this.lastCount = count;
    const index = this.at.length;
    this.at.push(sample);
    for (const s of this.shapes) s.weights.push(s.weight);
    if (this.direct.count !== 0 || this.directRows) {
      this.directRows ??= { buckets: this.bounds.map(() => new Column(float64)), sums: new Column(float64), counts: new Column(float64), from: index };
      this.direct.buckets.forEach((b, i) => this.directRows!.buckets[i]!.push(b));
      this.directRows.sums.push(this.direct.sum);
      this.directRows.counts.push(this.direct.count);
    }
  }

  /** This histogram's sample index at or before `time`, or -1. */
  indexAt(time: number): number {
    const sample = this.clock.indexAt(time);
    return sample < 0 ? -1 : this.at.lastAtOrBefore(sample);
  }

  private sumOver(index: number, pick: (s: Shape) => number, direct: (rows: NonNullable<Histogram['directRows']>, i: number) => number): number {
    if (index < 0) return 0;
    let total = 0;
    for (const s of this.shapes) if (index >= s.from) total += pick(s) * s.weights.get(index - s.from);
    const rows = this.directRows;
    if (rows && index >= rows.from) total += direct(rows, index - rows.from);
    return total;
  }

  bucketAt(index: number, i: number): number {
    return this.sumOver(index, (s) => s.cumulative[i]!, (rows, at) => rows.buckets[i]!.get(at));
  }

  countAt(index: number): number {
    return this.sumOver(index, (s) => s.count, (rows, at) => rows.counts.get(at));
  }

  sumAt(index: number): number {
    return this.sumOver(index, (s) => s.sum, (rows, at) => rows.sums.get(at));
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
  private readonly clock = new SampleTimes();

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
    const shapes: Shape[] = [];
    emit({
      inc: (name, labels, by = 1) => counters.push([this.get(name, labels, 'counter'), by]),
      observe: (name, labels, bounds, perBucket, sum, count) => {
        const cumulative = new Float64Array(bounds.length);
        let running = 0;
        for (let i = 0; i < bounds.length; i++) cumulative[i] = running += perBucket[i] ?? 0;
        shapes.push(this.histogram(name, labels, bounds).shape(cumulative, sum, count));
      },
    });
    return (n) => {
      for (const [series, by] of counters) series.value += by * n;
      for (const shape of shapes) shape.weight += n;
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
    const h = this.histogram(name, labels, bounds).direct;
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
    const sample = this.clock.times.length;
    this.clock.times.push(time);
    for (const s of this.series.values()) {
      if (s.history.last() !== s.value) s.history.push(sample, s.value);
    }
    for (const h of this.histograms.values()) h.sample(sample);
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
        const at = (index: number) => (part === 'sum' ? h.sumAt(index) : h.countAt(index));
        total += at(h.indexAt(to)) - at(h.indexAt(from));
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
      const end = h.indexAt(to);
      if (end < 0) continue;
      const start = h.indexAt(from);
      bounds ??= h.bounds;
      if (counts.length === 0) counts = h.bounds.map(() => 0);
      for (let i = 0; i < h.bounds.length; i++) counts[i]! += h.bucketAt(end, i) - h.bucketAt(start, i);
      total += h.countAt(end) - h.countAt(start);
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
        h.bounds.forEach((bound, i) => lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: String(bound) })} ${formatNumber(h.bucketNow(i))}`));
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
      h = new Histogram(name, labels, bounds, this.clock);
      this.histograms.set(k, h);
    }
    return h;
  }

  private get(name: string, labels: Labels, type: Series['type']): Series {
    const k = key(name, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { name, labels, type, value: 0, history: new History(this.clock) };
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
  return s.history.valueAt(time);
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

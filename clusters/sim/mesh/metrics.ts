// The twin's metric store: counters, gauges and histograms with the meshes' own names and
// labels, kept as a time series per tick so SLIs can be computed over virtual-time windows, and
// exposed in the Prometheus text format at /metrics.

export type Labels = Record<string, string>;

/**
 * Every number the store keeps now, one slot each in one growing array: series' values, the
 * weights of histogram shapes, and the buckets, sum and count of observations outside any shape.
 */
class Slots {
  values = new Float64Array(1024);
  length = 0;

  /** A new slot, at zero. */
  add(): number {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    return this.length++;
  }
}

/** Every KEYFRAME_EVERY-th sample keeps every slot; the ones between keep the slots that changed. */
const KEYFRAME_EVERY = 16;

/**
 * The slots' values at each sample (tick boundary): a full copy every KEYFRAME_EVERY samples,
 * and between those the slots that changed, as slot numbers and values (12 bytes each) in two
 * arrays per sample. Sampling is one pass over one array; a value at a sample is found in at most
 * KEYFRAME_EVERY samples, each by binary search.
 */
class Timeline {
  private readonly times: number[] = [];
  private readonly keyframes: Float64Array[] = [];
  private readonly changes: Array<{ slots: Uint32Array; values: Float64Array } | undefined> = [];
  private last = new Float64Array(0);
  private changedSlots = new Uint32Array(0);
  private changedValues = new Float64Array(0);

  get samples(): number {
    return this.times.length;
  }

  get lastTime(): number {
    return this.times.length === 0 ? Number.NEGATIVE_INFINITY : this.times[this.times.length - 1]!;
  }

  sample(time: number, slots: Slots): void {
    const n = slots.length;
    const values = slots.values;
    const index = this.times.length;
    this.times.push(time);
    if (this.last.length < n) {
      const grown = new Float64Array(Math.max(n, this.last.length * 2));
      grown.set(this.last);
      this.last = grown;
      this.changedSlots = new Uint32Array(grown.length);
      this.changedValues = new Float64Array(grown.length);
    }
    const last = this.last;
    if (index % KEYFRAME_EVERY === 0) {
      this.keyframes.push(values.slice(0, n));
      last.set(values.subarray(0, n));
      this.changes.push(undefined);
      return;
    }
    const slotsOut = this.changedSlots;
    const valuesOut = this.changedValues;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const now = values[i]!;
      const before = last[i]!;
      // NaN (a stale gauge) that stays NaN has not changed.
      if (now !== before && (now === now || before === before)) {
        slotsOut[changed] = i;
        valuesOut[changed] = now;
        last[i] = now;
        changed++;
      }
    }
    this.changes.push({ slots: slotsOut.slice(0, changed), values: valuesOut.slice(0, changed) });
  }

  /** The index of the last sample at or before `time`, or -1. */
  indexAt(time: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** A slot's value at a sample: 0 before the first sample, and for a slot made after it. */
  valueAt(slot: number, index: number): number {
    if (index < 0) return 0;
    const key = index - (index % KEYFRAME_EVERY);
    for (let at = index; at > key; at--) {
      const { slots, values } = this.changes[at]!;
      let lo = 0;
      let hi = slots.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const found = slots[mid]!;
        if (found === slot) return values[mid]!;
        if (found < slot) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    const keyframe = this.keyframes[key / KEYFRAME_EVERY]!;
    return slot < keyframe.length ? keyframe[slot]! : 0;
  }
}

/** A counter or gauge: its value lives in the store's slots. */
class Series {
  constructor(
    readonly name: string,
    readonly labels: Labels,
    readonly type: 'counter' | 'gauge',
    private readonly slots: Slots,
    readonly slot: number,
  ) {}

  get value(): number {
    return this.slots.values[this.slot]!;
  }

  set value(value: number) {
    this.slots.values[this.slot] = value;
  }
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
 * total it was scaled by (one slot), so its history is one number per shape and sample instead of
 * a row of buckets. Observations that are not a prepared shape (observe()) keep slots of their own.
 */
interface Shape {
  cumulative: Float64Array;
  sum: number;
  count: number;
  /** The slot of its weight: requests of this shape so far. */
  slot: number;
}

class Histogram {
  readonly shapes: Shape[] = [];
  /** The first of the slots of observations outside any shape: cumulative buckets, then sum and count. */
  private direct?: number;

  constructor(
    readonly name: string,
    readonly labels: Labels,
    readonly bounds: number[],
    private readonly slots: Slots,
  ) {}

  shape(cumulative: Float64Array, sum: number, count: number): Shape {
    const shape: Shape = { cumulative, sum, count, slot: this.slots.add() };
    this.shapes.push(shape);
    return shape;
  }

  /** Adds observations outside any shape. */
  observe(cumulative: Float64Array, sum: number, count: number): void {
    if (this.direct === undefined) {
      this.direct = this.slots.add();
      for (let i = 0; i < this.bounds.length + 1; i++) this.slots.add();
    }
    const values = this.slots.values;
    for (let i = 0; i < this.bounds.length; i++) values[this.direct + i]! += cumulative[i]!;
    values[this.direct + this.bounds.length]! += sum;
    values[this.direct + this.bounds.length + 1]! += count;
  }

  /**
   * Cumulative buckets, sum and count: now, or at a sample of the timeline. (The sums run in the
   * order they always have: now, the direct observations first; at a sample, the shapes first.)
   */
  totals(at?: { timeline: Timeline; index: number }): { buckets: Float64Array; sum: number; count: number } {
    const value = at ? (slot: number) => at.timeline.valueAt(slot, at.index) : (slot: number) => this.slots.values[slot]!;
    const n = this.bounds.length;
    const buckets = new Float64Array(n);
    let sum = 0;
    let count = 0;
    const direct = () => {
      if (this.direct === undefined) return;
      for (let i = 0; i < n; i++) buckets[i]! += value(this.direct + i);
      sum += value(this.direct + n);
      count += value(this.direct + n + 1);
    };
    if (!at) direct();
    for (const s of this.shapes) {
      const weight = value(s.slot);
      if (weight === 0) continue;
      for (let i = 0; i < n; i++) buckets[i]! += s.cumulative[i]! * weight;
      sum += s.sum * weight;
      count += s.count * weight;
    }
    if (at) direct();
    return { buckets, sum, count };
  }
}

/** Additions to the store's slots, in order: what prepared increments did, to do again. */
export interface SlotAdds {
  slots: number[];
  amounts: number[];
}

/** Where increments go: the store itself, or a recorder that prepares them for replay. */
export interface MetricSink {
  inc(name: string, labels: Labels, by?: number): void;
  observe(name: string, labels: Labels, bounds: number[], perBucket: number[], sum: number, count: number): void;
}

export class MetricStore implements MetricSink {
  private readonly series = new Map<string, Series>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly slots = new Slots();
  private readonly timeline = new Timeline();

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
   * With `adds`, the slot additions it made are appended there too (applyAdds makes them again).
   */
  prepare(emit: (sink: MetricSink) => void): (n: number, adds?: SlotAdds) => void {
    const counters: number[] = [];
    const by: number[] = [];
    emit({
      inc: (name, labels, amount = 1) => {
        counters.push(this.get(name, labels, 'counter').slot);
        by.push(amount);
      },
      observe: (name, labels, bounds, perBucket, sum, count) => {
        counters.push(this.histogram(name, labels, bounds).shape(cumulativeOf(bounds, perBucket), sum, count).slot);
        by.push(1);
      },
    });
    const slots = this.slots;
    return (n, adds) => {
      const values = slots.values;
      for (let i = 0; i < counters.length; i++) {
        const amount = by[i]! * n;
        values[counters[i]!]! += amount;
        if (adds) {
          adds.slots.push(counters[i]!);
          adds.amounts.push(amount);
        }
      }
    };
  }

  /** Makes again, in order, slot additions that prepared increments made (prepare). */
  applyAdds(adds: SlotAdds): void {
    const values = this.slots.values;
    const { slots, amounts } = adds;
    for (let i = 0; i < slots.length; i++) values[slots[i]!]! += amounts[i]!;
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
    this.histogram(name, labels, bounds).observe(cumulativeOf(bounds, perBucket), sum, count);
  }

  /** Records every series' value at `time` (a tick boundary). */
  sample(time: number): void {
    if (time <= this.timeline.lastTime) return;
    this.timeline.sample(time, this.slots);
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
      let found = false;
      for (const h of this.histograms.values()) {
        if (h.name !== family) continue;
        found = true;
        if (!labelsMatch(h.labels, match)) continue;
        total += this.histogramAt(h, to)[part] - this.histogramAt(h, from)[part];
      }
      if (total !== 0 || found) return total;
    }
    let total = 0;
    for (const s of this.find(name, match)) total += this.valueAt(s, to) - this.valueAt(s, from);
    return total;
  }

  /** A quantile of a histogram over (from, to], interpolated within buckets as PromQL's histogram_quantile does. */
  quantile(name: string, match: Labels, q: number, from: number, to: number): number {
    let bounds: number[] | undefined;
    let counts: number[] = [];
    let total = 0;
    for (const h of this.histograms.values()) {
      if (h.name !== name || !labelsMatch(h.labels, match)) continue;
      if (this.timeline.indexAt(to) < 0) continue;
      const end = this.histogramAt(h, to);
      const start = this.histogramAt(h, from);
      bounds ??= h.bounds;
      if (counts.length === 0) counts = h.bounds.map(() => 0);
      for (let i = 0; i < h.bounds.length; i++) counts[i]! += end.buckets[i]! - start.buckets[i]!;
      total += end.count - start.count;
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
      const value = this.valueAt(s, time);
      if (!(s.type === 'gauge' && Number.isNaN(value))) out.push({ labels: s.labels, value });
    }
    return out;
  }

  /** Each matching counter's increase over (from, to] (PromQL's increase() per series). */
  increases(name: string, match: Labels, from: number, to: number): Array<{ labels: Labels; value: number }> {
    return this.find(name, match).map((s) => ({ labels: s.labels, value: this.valueAt(s, to) - this.valueAt(s, from) }));
  }

  /** How many series of a metric match. */
  count(name: string, match: Labels): number {
    return this.find(name, match).length;
  }

  gauge(name: string, match: Labels, at: number, reduce: 'min' | 'max'): number {
    const values = this.find(name, match).map((s) => this.valueAt(s, at)).filter((v) => !Number.isNaN(v));
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
        const now = h.totals();
        h.bounds.forEach((bound, i) => lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: String(bound) })} ${formatNumber(now.buckets[i]!)}`));
        lines.push(`${name}_bucket${formatLabels({ ...h.labels, le: '+Inf' })} ${formatNumber(now.count)}`);
        lines.push(`${name}_sum${formatLabels(h.labels)} ${formatNumber(now.sum)}`, `${name}_count${formatLabels(h.labels)} ${formatNumber(now.count)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  /** A series' value at `time`: its value at the last sample at or before it, 0 before the first. */
  private valueAt(s: Series, time: number): number {
    return this.timeline.valueAt(s.slot, this.timeline.indexAt(time));
  }

  /** A histogram's buckets, sum and count at the last sample at or before `time`. */
  private histogramAt(h: Histogram, time: number): { buckets: Float64Array; sum: number; count: number } {
    return h.totals({ timeline: this.timeline, index: this.timeline.indexAt(time) });
  }

  private histogram(name: string, labels: Labels, bounds: number[]): Histogram {
    const k = key(name, labels);
    let h = this.histograms.get(k);
    if (!h) {
      h = new Histogram(name, labels, bounds, this.slots);
      this.histograms.set(k, h);
    }
    return h;
  }

  private get(name: string, labels: Labels, type: Series['type']): Series {
    const k = key(name, labels);
    let s = this.series.get(k);
    if (!s) {
      s = new Series(name, labels, type, this.slots, this.slots.add());
      this.series.set(k, s);
    }
    return s;
  }
}


/** Counts per bucket as cumulative counts (what Prometheus' `le` buckets hold). */
function cumulativeOf(bounds: number[], perBucket: number[]): Float64Array {
  const cumulative = new Float64Array(bounds.length);
  let running = 0;
  for (let i = 0; i < bounds.length; i++) cumulative[i] = running += perBucket[i] ?? 0;
  return cumulative;
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

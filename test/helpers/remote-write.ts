// A Prometheus remote-write sender for tests: what k6's experimental-prometheus-rw output sends, so
// a real Prometheus (--web.enable-remote-write-receiver) holds series shaped as k6 writes them.
// WriteRequest protobuf (prometheus/prompb types.proto, remote.proto) in snappy's block format.

/** A native histogram sample: exponential buckets of `schema`, positive buckets only. */
export interface NativeHistogram {
  timestamp: number;
  count: number;
  sum: number;
  schema: number;
  /** Absolute bucket index → observations in it (cumulative over time, like a counter). */
  buckets: Record<number, number>;
}

export interface Series {
  labels: Record<string, string>;
  samples?: Array<{ timestamp: number; value: number }>;
  histograms?: NativeHistogram[];
}

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const zigzag = (n: number) => (n >= 0 ? BigInt(n) * 2n : BigInt(-n) * 2n - 1n);
const key = (field: number, wire: number) => varint((field << 3) | wire);

function bytesField(field: number, bytes: number[]): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}

function stringField(field: number, text: string): number[] {
  return bytesField(field, [...Buffer.from(text, 'utf8')]);
}

function doubleField(field: number, value: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return [...key(field, 1), ...b];
}

function varintField(field: number, value: number | bigint): number[] {
  return [...key(field, 0), ...varint(value)];
}

function histogram(h: NativeHistogram): number[] {
  const indices = Object.keys(h.buckets).map(Number).sort((a, b) => a - b);
  // One span from the lowest index, buckets in between included (empty ones as zero deltas).
  const first = indices[0] ?? 0;
  const length = indices.length ? indices.at(-1)! - first + 1 : 0;
  const counts = Array.from({ length }, (_, i) => h.buckets[first + i] ?? 0);
  const deltas = counts.map((c, i) => c - (i === 0 ? 0 : counts[i - 1]!));
  const span = [...key(1, 0), ...varint(zigzag(first)), ...varintField(2, length)];
  return [
    ...varintField(1, h.count), // count_int
    ...doubleField(3, h.sum),
    ...key(4, 0), ...varint(zigzag(h.schema)),
    ...doubleField(5, 0), // zero_threshold
    ...varintField(6, 0), // zero_count_int
    ...(length ? bytesField(11, span) : []),
    ...(length ? bytesField(12, deltas.flatMap((d) => varint(zigzag(d)))) : []),
    ...varintField(15, h.timestamp),
  ];
}

function timeSeries(series: Series): number[] {
  const labels = Object.entries(series.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    ...labels.flatMap(([name, value]) => bytesField(1, [...stringField(1, name), ...stringField(2, value)])),
    ...(series.samples ?? []).flatMap((s) => bytesField(2, [...doubleField(1, s.value), ...varintField(2, s.timestamp)])),
    ...(series.histograms ?? []).flatMap((h) => bytesField(4, histogram(h))),
  ];
}

/** Snappy's block format with literals only: valid, uncompressed, enough for a test. */
function snappy(data: Buffer): Buffer {
  const out: number[] = [...varint(data.length)];
  for (let at = 0; at < data.length; at += 65_536) {
    const chunk = data.subarray(at, Math.min(data.length, at + 65_536));
    out.push(61 << 2, (chunk.length - 1) & 0xff, ((chunk.length - 1) >> 8) & 0xff, ...chunk);
  }
  return Buffer.from(out);
}

/** Sends series to a Prometheus remote-write receiver; throws with its answer when refused. */
export async function remoteWrite(url: string, series: Series[]): Promise<void> {
  const body = snappy(Buffer.from(series.flatMap((s) => bytesField(1, timeSeries(s)))));
  const response = await fetch(`${url.replace(/\/$/, '')}/api/v1/write`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' } });
  if (!response.ok) throw new Error(`remote write refused: ${response.status} ${await response.text()}`);
}

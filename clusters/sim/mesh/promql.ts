import type { Labels, MetricStore } from './metrics.js';

/**
 * The PromQL the embedded cluster answers, from its own metric store, so a run against a served
 * embedded cluster measures SLIs exactly as it would through a real Prometheus: selectors with
 * =, !=, =~, !~; rate() and increase() over a range; sum, min, max and count, with `by`;
 * histogram_quantile over `sum by (le) (rate(x_bucket[…]))`; scalar *, /, -, `or`, vector(n)
 * and time(). That is the language meshdrill renders for its SLIs and call graphs; anything
 * else is refused with where it stopped, never guessed at.
 */
export class PromqlError extends Error {}

type Node =
  | { type: 'number'; value: number }
  | { type: 'selector'; metric: string; matchers: Labels; range?: number }
  | { type: 'call'; fn: string; args: Node[] }
  | { type: 'aggregate'; op: 'sum' | 'min' | 'max' | 'count'; by?: string[]; expr: Node }
  | { type: 'binary'; op: '*' | '/' | '-' | '+' | 'or'; left: Node; right: Node };

export interface Sample {
  metric: Labels;
  value: number;
}

type Value = { kind: 'scalar'; value: number } | { kind: 'vector'; samples: Sample[] };

const TOKEN = /\s*(?:(?<num>\d+(?:\.\d+)?(?:e[+-]?\d+)?)|(?<dur>\[\d+(?:ms|s|m|h|d)\])|(?<str>"(?:[^"\\]|\\.)*")|(?<op>=~|!~|!=|[=(){},*/+-])|(?<id>[a-zA-Z_:][a-zA-Z0-9_:]*))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match) throw new PromqlError(`unexpected character at position ${at + 1}: "${text.slice(at, at + 10)}"`);
    tokens.push(match[0].trim());
    at = TOKEN.lastIndex;
  }
  return tokens;
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

class Parser {
  private at = 0;

  constructor(private readonly tokens: string[]) {}

  parse(): Node {
    const node = this.expression();
    if (this.at < this.tokens.length) throw new PromqlError(`unexpected "${this.tokens[this.at]}" after a complete expression`);
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private take(expected?: string): string {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new PromqlError(`the query ends early${expected ? `; expected "${expected}"` : ''}`);
    if (expected !== undefined && token !== expected) throw new PromqlError(`expected "${expected}", found "${token}"`);
    return token;
  }

  // or < additive < multiplicative < unary, as PromQL's precedence has them.
  private expression(): Node {
    let left = this.additive();
    while (this.peek() === 'or') {
      this.take();
      left = { type: 'binary', op: 'or', left, right: this.additive() };
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.peek() === '+' || this.peek() === '-') {
      const op = this.take() as '+' | '-';
      left = { type: 'binary', op, left, right: this.multiplicative() };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.primary();
    while (this.peek() === '*' || this.peek() === '/') {
      const op = this.take() as '*' | '/';
      left = { type: 'binary', op, left, right: this.primary() };
    }
    return left;
  }

  private primary(): Node {
    const token = this.take();
    if (token === '(') {
      const inner = this.expression();
      this.take(')');
      return inner;
    }
    if (/^\d/.test(token)) return { type: 'number', value: Number(token) };
    if (['sum', 'min', 'max', 'count'].includes(token)) return this.aggregate(token as 'sum' | 'min' | 'max' | 'count');
    if (['rate', 'increase', 'histogram_quantile', 'vector', 'time'].includes(token)) {
      this.take('(');
      const args: Node[] = [];
      while (this.peek() !== ')') {
        args.push(this.expression());
        if (this.peek() === ',') this.take();
      }
      this.take(')');
      return { type: 'call', fn: token, args };
    }
    if (/^[a-zA-Z_:]/.test(token) && this.peek() === '(') throw new PromqlError(`function ${token}() is not in the subset the embedded cluster answers (rate, increase, sum, min, max, count, histogram_quantile, vector, time)`);
    if (/^[a-zA-Z_:]/.test(token)) return this.selector(token);
    throw new PromqlError(`unexpected "${token}"`);
  }

  private aggregate(op: 'sum' | 'min' | 'max' | 'count'): Node {
    let by: string[] | undefined;
    if (this.peek() === 'by') {
      this.take();
      by = this.labels();
    }
    this.take('(');
    const expr = this.expression();
    this.take(')');
    if (this.peek() === 'by') {
      this.take();
      by = this.labels();
    }
    return { type: 'aggregate', op, ...(by ? { by } : {}), expr };
  }

  private labels(): string[] {
    this.take('(');
    const names: string[] = [];
    while (this.peek() !== ')') {
      names.push(this.take());
      if (this.peek() === ',') this.take();
    }
    this.take(')');
    return names;
  }

  private selector(metric: string): Node {
    const matchers: Labels = {};
    if (this.peek() === '{') {
      this.take();
      while (this.peek() !== '}') {
        const name = this.take();
        const op = this.take();
        const quoted = this.take();
        if (!/^"/.test(quoted)) throw new PromqlError(`expected a quoted value for label ${name}, found ${quoted}`);
        const value = JSON.parse(quoted) as string;
        // The store's matcher encoding: "!v" not equal, "~re" matches, "!~re" does not.
        matchers[name] = op === '=' ? value : op === '!=' ? `!${value}` : op === '=~' ? `~${value}` : op === '!~' ? `!~${value}` : (() => {
          throw new PromqlError(`unknown label matcher "${op}"`);
        })();
        if (this.peek() === ',') this.take();
      }
      this.take('}');
    }
    const next = this.peek();
    if (next?.startsWith('[')) {
      this.take();
      const [, amount, unit] = /^\[(\d+)(ms|s|m|h|d)\]$/.exec(next)!;
      return { type: 'selector', metric, matchers, range: Number(amount) * DURATION_MS[unit!]! };
    }
    return { type: 'selector', metric, matchers };
  }
}

export function parsePromql(text: string): Node {
  return new Parser(tokenize(text)).parse();
}

/** Evaluates a query at `time` (ms) over the store. */
export function evaluatePromql(store: MetricStore, text: string, time: number): Value {
  return evaluate(store, parsePromql(text), time);
}

function evaluate(store: MetricStore, node: Node, time: number): Value {
  switch (node.type) {
    case 'number':
      return { kind: 'scalar', value: node.value };
    case 'selector':
      if (node.range !== undefined) throw new PromqlError(`a range selector ${node.metric}[…] needs rate() or increase() around it`);
      return { kind: 'vector', samples: store.valuesAt(node.metric, node.matchers, time).map((s) => ({ metric: { __name__: node.metric, ...s.labels }, value: s.value })) };
    case 'call':
      return call(store, node, time);
    case 'aggregate':
      return aggregate(store, node, time);
    case 'binary':
      return binary(store, node, time);
  }
}

function call(store: MetricStore, node: Extract<Node, { type: 'call' }>, time: number): Value {
  switch (node.fn) {
    case 'time':
      return { kind: 'scalar', value: time / 1000 };
    case 'vector': {
      const arg = evaluate(store, node.args[0]!, time);
      return { kind: 'vector', samples: [{ metric: {}, value: arg.kind === 'scalar' ? arg.value : Number.NaN }] };
    }
    case 'rate':
    case 'increase': {
      const arg = node.args[0];
      if (arg?.type !== 'selector' || arg.range === undefined) throw new PromqlError(`${node.fn}() takes a range selector, like ${node.fn}(metric{…}[5m])`);
      const from = time - arg.range;
      const part = /_(sum|count)$/.exec(arg.metric);
      // Histograms live as families: x_count and x_sum are read from them.
      const samples = part
        ? [{ metric: {}, value: store.increase(arg.metric, arg.matchers, from, time) }]
        : store.increases(arg.metric, arg.matchers, from, time).map((s) => ({ metric: s.labels, value: s.value }));
      const scale = node.fn === 'rate' ? 1000 / arg.range : 1;
      return { kind: 'vector', samples: samples.map((s) => ({ metric: s.metric, value: s.value * scale })) };
    }
    case 'histogram_quantile':
      return quantile(store, node, time);
    default:
      throw new PromqlError(`function ${node.fn}() is not in the subset the embedded cluster answers`);
  }
}

/** histogram_quantile(q, sum by (le) (rate(x_bucket{…}[w]))), read from the store's histogram family. */
function quantile(store: MetricStore, node: Extract<Node, { type: 'call' }>, time: number): Value {
  const [qNode, inner] = node.args;
  const q = qNode?.type === 'number' ? qNode.value : Number.NaN;
  const rate = inner?.type === 'aggregate' && inner.op === 'sum' && inner.by?.includes('le') ? inner.expr : undefined;
  const selector = rate?.type === 'call' && rate.fn === 'rate' ? rate.args[0] : undefined;
  if (!Number.isFinite(q) || selector?.type !== 'selector' || selector.range === undefined || !selector.metric.endsWith('_bucket')) {
    throw new PromqlError('histogram_quantile is answered for histogram_quantile(q, sum by (le) (rate(x_bucket{…}[w]))) only');
  }
  const value = store.quantile(selector.metric.slice(0, -'_bucket'.length), selector.matchers, q, time - selector.range, time);
  return { kind: 'vector', samples: Number.isNaN(value) ? [] : [{ metric: {}, value }] };
}

function aggregate(store: MetricStore, node: Extract<Node, { type: 'aggregate' }>, time: number): Value {
  const inner = evaluate(store, node.expr, time);
  if (inner.kind !== 'vector') throw new PromqlError(`${node.op}() takes a vector`);
  const groups = new Map<string, { metric: Labels; values: number[] }>();
  for (const sample of inner.samples) {
    const metric = Object.fromEntries((node.by ?? []).map((l) => [l, sample.metric[l] ?? '']));
    const key = JSON.stringify(metric);
    const group = groups.get(key) ?? { metric, values: [] };
    group.values.push(sample.value);
    groups.set(key, group);
  }
  // An aggregation over no series is no series: an empty result, never zero.
  const reduce = (values: number[]) => (node.op === 'sum' ? values.reduce((a, b) => a + b, 0) : node.op === 'count' ? values.length : node.op === 'min' ? Math.min(...values) : Math.max(...values));
  return { kind: 'vector', samples: [...groups.values()].map((g) => ({ metric: g.metric, value: reduce(g.values) })) };
}

function binary(store: MetricStore, node: Extract<Node, { type: 'binary' }>, time: number): Value {
  const left = evaluate(store, node.left, time);
  const right = evaluate(store, node.right, time);
  if (node.op === 'or') {
    if (left.kind === 'vector' && right.kind === 'vector') return left.samples.length > 0 ? left : right;
    throw new PromqlError('"or" joins two vectors');
  }
  const apply = (a: number, b: number) => (node.op === '*' ? a * b : node.op === '/' ? a / b : node.op === '+' ? a + b : a - b);
  if (left.kind === 'scalar' && right.kind === 'scalar') return { kind: 'scalar', value: apply(left.value, right.value) };
  if (left.kind === 'scalar' && right.kind === 'vector') return { kind: 'vector', samples: right.samples.map((s) => ({ metric: s.metric, value: apply(left.value, s.value) })) };
  if (left.kind === 'vector' && right.kind === 'scalar') return { kind: 'vector', samples: left.samples.map((s) => ({ metric: s.metric, value: apply(s.value, right.value) })) };
  // Vector with vector: one-to-one on identical label sets, as PromQL matches them.
  const l = left as Extract<Value, { kind: 'vector' }>;
  const r = right as Extract<Value, { kind: 'vector' }>;
  const byLabels = new Map(r.samples.map((s) => [JSON.stringify(withoutName(s.metric)), s]));
  const out: Sample[] = [];
  for (const s of l.samples) {
    const match = byLabels.get(JSON.stringify(withoutName(s.metric)));
    if (match) out.push({ metric: withoutName(s.metric), value: apply(s.value, match.value) });
  }
  return { kind: 'vector', samples: out };
}

function withoutName(metric: Labels): Labels {
  const { __name__: _name, ...rest } = metric;
  return Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}

/** The Prometheus HTTP API's answer for an instant query. */
export function instantResult(value: Value, time: number): { resultType: string; result: unknown } {
  if (value.kind === 'scalar') return { resultType: 'scalar', result: [time / 1000, String(value.value)] };
  return { resultType: 'vector', result: value.samples.map((s) => ({ metric: s.metric, value: [time / 1000, formatValue(s.value)] })) };
}

/** The Prometheus HTTP API's answer for a range query: a matrix, one series per label set. */
export function rangeResult(store: MetricStore, text: string, start: number, end: number, stepMs: number): { resultType: string; result: unknown } {
  const node = parsePromql(text);
  const series = new Map<string, { metric: Labels; values: Array<[number, string]> }>();
  for (let t = start; t <= end; t += stepMs) {
    const value = evaluate(store, node, t);
    const samples = value.kind === 'scalar' ? [{ metric: {}, value: value.value }] : value.samples;
    for (const s of samples) {
      const key = JSON.stringify(s.metric);
      const entry = series.get(key) ?? { metric: s.metric, values: [] };
      entry.values.push([t / 1000, formatValue(s.value)]);
      series.set(key, entry);
    }
  }
  return { resultType: 'matrix', result: [...series.values()] };
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

import { ClusterError } from '../core/index.js';
import { authHeaders, tlsFetch, type PrometheusAuth } from './prometheus-auth.js';

export interface PrometheusSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusClientOptions {
  url: string;
  timeoutMs?: number;
  retries?: number;
  fetch?: typeof fetch;
  /** Bearer token, basic auth, headers, CA (prometheus-auth.ts). */
  auth?: PrometheusAuth;
  /** Waits between retries; injected so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** The Prometheus HTTP API's instant and range queries, with timeouts, retries on 5xx and Prometheus's own error text. */
export class PrometheusClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PrometheusClientOptions) {
    const tls = options.auth?.caFile !== undefined || options.auth?.insecureSkipVerify === true;
    this.fetch = options.fetch ?? (tls ? tlsFetch(options.auth!) : fetch);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** An instant query at `time` (ms). Empty results are an empty array, NaN values are NaN. */
  async query(promql: string, time?: number): Promise<PrometheusSample[]> {
    const params = new URLSearchParams({ query: promql, ...(time !== undefined ? { time: String(time / 1000) } : {}) });
    const data = await this.call('/api/v1/query', params);
    return this.samples(data);
  }

  /**
   * The server's own time (ms): `time()` evaluated now. Windows over past data are placed by it,
   * so a client whose clock is off (a pod, a laptop) still measures what Prometheus has.
   */
  async serverTime(): Promise<number> {
    const [sample] = await this.query('time()');
    if (!sample || !Number.isFinite(sample.value)) throw new ClusterError(`Prometheus at ${this.options.url}: time() gave no value`);
    return sample.value * 1000;
  }

  async queryRange(promql: string, start: number, end: number, stepMs: number): Promise<Array<{ metric: Record<string, string>; values: Array<[number, number]> }>> {
    const params = new URLSearchParams({ query: promql, start: String(start / 1000), end: String(end / 1000), step: `${stepMs / 1000}s` });
    const data = (await this.call('/api/v1/query_range', params)) as { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t * 1000, Number(v)]) }));
  }

  private samples(data: unknown): PrometheusSample[] {
    const d = data as { resultType: string; result: unknown };
    if (d.resultType === 'scalar') return [{ metric: {}, value: Number((d.result as [number, string])[1]) }];
    return (d.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  private async call(path: string, params: URLSearchParams): Promise<unknown> {
    const retries = this.options.retries ?? 2;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await this.sleep(200 * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await this.fetch(`${this.options.url.replace(/\/$/, '')}${path}`, {
          method: 'POST',
          body: params,
          headers: { ...authHeaders(this.options.auth), 'Content-Type': 'application/x-www-form-urlencoded' },
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${this.options.timeoutMs ?? 10_000} ms` : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
        lastError = new ClusterError(`Prometheus at ${this.options.url}: ${reason}`, { cause: error });
        continue;
      }
      const body = (await response.json().catch(() => ({}))) as { status?: string; data?: unknown; error?: string; errorType?: string };
      if (response.status >= 500) {
        lastError = new ClusterError(`Prometheus at ${this.options.url}: ${response.status} ${body.error ?? response.statusText}`);
        continue;
      }
      if (response.status === 401 || response.status === 403) throw new ClusterError(`Prometheus at ${this.options.url} refused the credentials (${response.status}): set ${this.options.auth?.bearerToken || this.options.auth?.bearerTokenFile || this.options.auth?.basic || this.options.auth?.headers ? 'the right ones' : 'a bearer token (MESHDRILL_PROMETHEUS_BEARER_TOKEN or _FILE) or basic auth (MESHDRILL_PROMETHEUS_USERNAME, _PASSWORD, or user:password@ in the URL)'}`);
      if (body.status !== 'success') throw new ClusterError(`Prometheus rejected the query: ${body.errorType ?? response.status}: ${body.error ?? 'no error text'}`);
      return body.data;
    }
    throw lastError ?? new ClusterError(`Prometheus at ${this.options.url}: no answer`);
  }
}
